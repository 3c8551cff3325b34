"""Daily rollups against a hand-counted day (tests/metrics_fixtures.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from scale.exceptions import ValidationError
from scale.metrics import rollup
from scale.models.metrics import MetricsError, MetricsIngest, MetricsJobType
from tests.metrics_fixtures import DAY, make_day


def test_job_type_rollup_matches_the_hand_count(db):
    made = make_day(db)
    assert rollup.compute_day(db, DAY) == {"metrics_job_type": 2, "metrics_error": 2, "metrics_ingest": 1}
    alpha = db.scalars(select(MetricsJobType).where(MetricsJobType.job_type_id == made["alpha"].id)).one()
    assert alpha.occurred == DAY
    assert (alpha.completed_count, alpha.failed_count, alpha.canceled_count, alpha.total_count) == (1, 2, 0, 3)
    assert (alpha.error_system_count, alpha.error_algorithm_count, alpha.error_data_count) == (1, 1, 0)
    assert (alpha.queue_time_sum, alpha.queue_time_min, alpha.queue_time_max, alpha.queue_time_avg) == (
        900, 300, 600, 450)
    assert (alpha.pre_time_sum, alpha.pre_time_min, alpha.pre_time_max, alpha.pre_time_avg) == (90, 30, 60, 45)
    assert (alpha.job_time_sum, alpha.job_time_min, alpha.job_time_max, alpha.job_time_avg) == (
        1800, 1800, 1800, 1800)
    assert (alpha.post_time_sum, alpha.post_time_avg) == (60, 60)
    assert (alpha.run_time_sum, alpha.run_time_min, alpha.run_time_max, alpha.run_time_avg) == (
        2040, 60, 1980, 1020)
    assert (alpha.stage_time_sum, alpha.stage_time_min, alpha.stage_time_max) == (90, 30, 60)
    beta = db.scalars(select(MetricsJobType).where(MetricsJobType.job_type_id == made["beta"].id)).one()
    assert (beta.canceled_count, beta.total_count, beta.completed_count, beta.queue_time_sum) == (1, 1, 0, None)


def test_error_and_ingest_rollups_match_the_hand_count(db):
    made = make_day(db)
    rollup.compute_day(db, DAY)
    errors = {row.error_id: row.total_count for row in db.scalars(select(MetricsError))}
    assert errors == {made["algorithm"].id: 1, made["system"].id: 1}
    feed = db.scalars(select(MetricsIngest).where(MetricsIngest.occurred == DAY)).one()
    assert (feed.ingested_count, feed.errored_count, feed.deferred_count, feed.duplicate_count,
            feed.total_count) == (2, 1, 0, 0, 3)
    assert (feed.file_size_sum, feed.file_size_min, feed.file_size_max, feed.file_size_avg) == (400, 100, 300, 200)
    assert (feed.transfer_time_sum, feed.transfer_time_min, feed.transfer_time_max) == (60, 10, 30)
    assert (feed.ingest_time_sum, feed.ingest_time_avg) == (10, 5)


def test_recomputing_a_day_replaces_it(db):
    make_day(db)
    rollup.compute_day(db, DAY)
    rollup.compute_day(db, DAY)
    assert len(db.scalars(select(MetricsJobType).where(MetricsJobType.occurred == DAY)).all()) == 2
    other = rollup.compute_day(db, DAY + dt.timedelta(days=1))
    assert other["metrics_job_type"] == 1  # the job that ended just after midnight
    assert len(db.scalars(select(MetricsJobType)).all()) == 3


@pytest.mark.parametrize("text", ["", "2015-1-1", "2015-02-30", "yesterday", None, 20150101])
def test_a_bad_day_names_the_field(text):
    with pytest.raises(ValidationError) as raised:
        rollup.parse_day(text)
    assert raised.value.field == "day"
