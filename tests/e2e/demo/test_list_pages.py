"""The demo pages ListFunctions like AWS (50 a response at most): the inventory's paced pagination
meets the awkward case at any fleet size."""

from __future__ import annotations

import pytest


@pytest.mark.e2e
def test_list_functions_pages_like_aws(served_demo):
    lam = served_demo.client("lambda")
    first = lam.list_functions(MaxItems=10)
    assert len(first["Functions"]) == 10 and first["NextMarker"]
    names = [f["FunctionName"] for f in first["Functions"]]
    marker = first["NextMarker"]
    while marker:
        page = lam.list_functions(Marker=marker, MaxItems=500)  # more than 50 asked: 50 given
        assert len(page["Functions"]) <= 50
        names += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
    every = [f["FunctionName"] for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]]
    assert sorted(names) == sorted(every) and len(set(names)) == len(names)
    us = {t["name"] for t in served_demo.truth["functions"] if t["region"] == "us-east-1"}
    assert set(names) == us


@pytest.mark.e2e
def test_the_unreserved_pool_is_per_region(served_demo):
    """GetAccountSettings: each region's 1,000 less that region's reservations (eu-west-1 has none)."""
    for region in ("us-east-1", "eu-west-1"):
        lam = served_demo.client("lambda", region)
        reserved = 0
        for page in lam.get_paginator("list_functions").paginate():
            for f in page["Functions"]:
                reserved += (lam.get_function(FunctionName=f["FunctionName"]).get("Concurrency") or {}).get(
                    "ReservedConcurrentExecutions", 0)
        limit = lam.get_account_settings()["AccountLimit"]
        assert limit["UnreservedConcurrentExecutions"] == limit["ConcurrentExecutions"] - reserved
        if region == "eu-west-1":
            assert reserved == 0 and limit["UnreservedConcurrentExecutions"] == 1000


@pytest.mark.e2e
def test_get_function_answers_a_zero_reservation_as_aws_does(served_demo):
    """Reserved concurrency 0 (the function never runs) is a reservation: GetFunction carries it."""
    lam = served_demo.client("lambda", "eu-west-1")  # no reservation in the region: the pool stays 1,000
    name = lam.list_functions(MaxItems=1)["Functions"][0]["FunctionName"]
    assert "Concurrency" not in lam.get_function(FunctionName=name)  # unreserved: absent
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    try:
        assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 0}
        assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 0
    finally:
        lam.delete_function_concurrency(FunctionName=name)
    assert "Concurrency" not in lam.get_function(FunctionName=name)
