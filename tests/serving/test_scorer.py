"""The scorer refuses a model built on another feature registry, and scores in order."""

from __future__ import annotations

import pytest

from riskwarn.errors import ModelMismatchError
from riskwarn.serving import TIER_ORDER, Scorer, ScoreRequest, check_model
from riskwarn.training import load_model

from .conftest import Served


def test_a_model_of_another_registry_version_is_refused(served: Served) -> None:
    model = load_model(tracking_uri=served.tracking_uri)
    check_model(model)
    model.registry_version = "not-this-code"
    with pytest.raises(ModelMismatchError, match="not-this-code") as info:
        Scorer(model, served.dataset)
    assert "retrain" in str(info.value)


def test_scores_come_back_in_request_order(served: Served) -> None:
    import datetime as dt

    scorer = Scorer(load_model(tracking_uri=served.tracking_uri), served.dataset)
    ids = list(served.dataset.disputes["dispute_id"].iloc[-5:])
    as_of = served.dataset.end.strftime("%Y-%m-%d")
    requests = [ScoreRequest.model_validate({"dispute_id": d, "as_of": as_of}) for d in ids]
    cases = [scorer.resolve(r, dt.datetime.now()) for r in requests]
    forward = scorer.score(cases)
    backward = scorer.score(cases[::-1])
    assert [c.dispute_id for c in forward.cases] == ids
    assert list(forward.risk) == list(backward.risk[::-1])
    assert set(forward.tiers) <= set(TIER_ORDER)
    assert forward.matrix.shape == (5, len(scorer.feature_names))
