"""The scorer shares one feature builder between the event loop and worker threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from riskwarn.features import open_disputes
from riskwarn.serving import Scorer, ScoreRequest
from riskwarn.training import load_model


def test_concurrent_scoring_equals_one_at_a_time(served) -> None:
    model = load_model("models:/riskwarn@champion", tracking_uri=served.tracking_uri)
    dates = pd.date_range(served.dataset.start.normalize() + pd.Timedelta(days=400),
                          periods=8, freq="45D")  # fmt: skip
    pairs = [(d, t) for t in dates for d in open_disputes(served.dataset, t)[:12]]
    assert len(pairs) > 40

    def case(pair):
        request = ScoreRequest(dispute_id=pair[0], as_of=pair[1].isoformat())
        return scorer.resolve(request, now=pd.Timestamp.now().to_pydatetime())

    scorer = Scorer(model, served.dataset)
    alone = [scorer.features([case(p)])[0] for p in pairs]
    fresh = Scorer(model, served.dataset)  # a new builder, its day cache empty
    scorer = fresh
    with ThreadPoolExecutor(8) as pool:  # dates in every order, many threads at once
        together = list(pool.map(lambda p: fresh.features([case(p)])[0], pairs))
    names = list(alone[0])
    a = np.array([[row[n] for n in names] for row in alone], dtype=object)
    b = np.array([[row[n] for n in names] for row in together], dtype=object)
    assert (
        (pd.DataFrame(a).fillna(-1).astype(str) == pd.DataFrame(b).fillna(-1).astype(str))
        .all()
        .all()
    )
