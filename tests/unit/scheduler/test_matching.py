"""Matching queued executions to node resources (pure: no database)."""

from __future__ import annotations

import datetime as dt

from scale.resources import Resources
from scale.scheduler.matching import Candidate, Constraints, Matcher, MatchNode, match, never_fits

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def node(node_id: int, cpus: float = 4, mem: float = 4096, disk: float = 10_000, *,
         free: Resources | None = None, paused: bool = False) -> MatchNode:
    total = Resources(cpus, mem, disk)
    return MatchNode(node_id=node_id, total=total, free=free or total, is_paused=paused)


def job(queue_id: int, *, priority: int = 100, cpus: float = 1, mem: float = 64,
        disk: float = 0, job_type_id: int = 1, age: int = 0) -> Candidate:
    """`age` seconds earlier than T0 means queued earlier."""
    return Candidate(queue_id=queue_id, job_exe_id=1000 + queue_id, job_type_id=job_type_id,
                     priority=priority, queued=T0 - dt.timedelta(seconds=age),
                     required=Resources(cpus, mem, disk))


def placed(assignments) -> list[tuple[int, int]]:
    return [(a.candidate.queue_id, a.node_id) for a in assignments]


def test_lower_priority_number_goes_first_when_only_one_fits():
    result = match([node(1, cpus=1)], [job(1, priority=200), job(2, priority=5)])
    assert placed(result) == [(2, 1)]


def test_equal_priority_goes_oldest_first():
    result = match([node(1, cpus=1)], [job(1, age=10), job(2, age=60)])
    assert placed(result) == [(2, 1)]


def test_assignments_come_in_priority_order():
    result = match([node(1, cpus=8)], [job(1, priority=3), job(2, priority=1), job(3, priority=2)])
    assert [a.candidate.queue_id for a in result] == [2, 3, 1]


def test_every_resource_must_fit():
    nodes = [node(1, cpus=4, mem=100, disk=50)]
    assert match(nodes, [job(1, mem=101)]) == []
    assert match(nodes, [job(1, disk=51)]) == []
    assert match(nodes, [job(1, cpus=4.5)]) == []
    assert placed(match(nodes, [job(1, cpus=4, mem=100, disk=50)])) == [(1, 1)]


def test_placed_jobs_use_up_the_node():
    result = match([node(1, cpus=2)], [job(1), job(2), job(3)])
    assert placed(result) == [(1, 1), (2, 1)]


def test_free_resources_not_total_limit_placement():
    busy = node(1, cpus=4, free=Resources(0.5, 4096, 10_000))
    assert match([busy], [job(1, cpus=1)]) == []


def test_work_spreads_to_the_node_with_most_free_cpus():
    nodes = [node(1, cpus=2), node(2, cpus=8), node(3, cpus=4)]
    assert placed(match(nodes, [job(1), job(2)])) == [(1, 2), (2, 2)]


def test_paused_scheduler_places_nothing():
    assert match([node(1)], [job(1)], Constraints(scheduler_paused=True)) == []


def test_paused_node_takes_nothing():
    result = match([node(1, cpus=8, paused=True), node(2, cpus=1)], [job(1), job(2)])
    assert placed(result) == [(1, 2)]


def test_paused_job_type_is_skipped_and_others_still_run():
    result = match([node(1)], [job(1, job_type_id=7, priority=1), job(2, job_type_id=8)],
                   Constraints(paused_job_types=frozenset({7})))
    assert placed(result) == [(2, 1)]


def test_max_scheduled_slots_hold():
    candidates = [job(i, job_type_id=7) for i in range(1, 5)] + [job(9, job_type_id=8)]
    result = match([node(1, cpus=16)], candidates, Constraints(type_slots={7: 1}))
    assert placed(result) == [(1, 1), (9, 1)]


def test_max_scheduled_already_reached_places_none_of_that_type():
    result = match([node(1)], [job(1, job_type_id=7)], Constraints(type_slots={7: 0}))
    assert result == []


def test_big_job_reserves_its_node_so_small_jobs_cannot_starve_it():
    # Node 1 can hold the 4-cpu job once drained; the small job must not take its 2 free cpus.
    nodes = [node(1, cpus=4, free=Resources(2, 4096, 10_000))]
    result = match(nodes, [job(1, priority=1, cpus=4), job(2, priority=50, cpus=1)])
    assert result == []


def test_reservation_takes_one_node_and_small_jobs_run_on_the_others():
    nodes = [node(1, cpus=4, free=Resources(2, 4096, 10_000)), node(2, cpus=1)]
    result = match(nodes, [job(1, priority=1, cpus=4), job(2, priority=50, cpus=1)])
    assert placed(result) == [(2, 2)]


def test_job_bigger_than_every_node_does_not_block_the_queue():
    result = match([node(1, cpus=4)], [job(1, priority=1, cpus=64), job(2, priority=50)])
    assert placed(result) == [(2, 1)]


def test_inputs_are_not_changed():
    nodes = [node(1, cpus=1)]
    match(nodes, [job(1)])
    assert nodes[0].free == Resources(1, 4096, 10_000)


def test_resources_arithmetic_and_dict():
    a, b = Resources(1, 2, 3), Resources(0.5, 1, 1)
    assert (a - b) + b == a
    assert b.fits_in(a) and not a.fits_in(b)
    assert a.to_dict() == {"cpus": 1.0, "mem": 2.0, "disk": 3.0}



def test_a_reservation_made_on_one_page_holds_on_the_next():
    matcher = Matcher([node(1, cpus=4, free=Resources(2, 4096, 10_000))])
    assert matcher.place([job(1, priority=1, cpus=4)]) == []
    assert matcher.place([job(2, priority=50, cpus=1)]) == []
    assert not matcher.open_node_fits(Resources(0.01, 1))


def test_max_scheduled_slots_carry_from_page_to_page():
    matcher = Matcher([node(1, cpus=8)], Constraints(type_slots={7: 2}))
    assert placed(matcher.place([job(1, job_type_id=7), job(2, job_type_id=8)])) == [(1, 1), (2, 1)]
    assert matcher.full_job_types() == frozenset()
    assert placed(matcher.place([job(3, job_type_id=7), job(4, job_type_id=7)])) == [(3, 1)]
    assert matcher.full_job_types() == frozenset({7})


def test_open_node_fits_tells_whether_another_page_could_place_anything():
    matcher = Matcher([node(1, cpus=2), node(2, cpus=1, paused=True)])
    assert matcher.open_node_fits(Resources(2, 64))
    matcher.place([job(1, cpus=1.5)])
    assert matcher.open_node_fits(Resources(0.5, 64))
    assert not matcher.open_node_fits(Resources(1, 64))


def test_never_fits_checks_every_resource_against_each_total():
    totals = [Resources(64, 1024, 10), Resources(2, 65536, 10)]
    assert never_fits(Resources(64, 65536, 1), totals)
    assert not never_fits(Resources(2, 65536, 1), totals)
    assert never_fits(Resources(1, 1, 11), totals)


def test_among_many_nodes_each_job_goes_to_the_one_with_most_free_cpus():
    nodes = [node(i, cpus=4, free=Resources(1 + (i * 7919) % 300 / 100, 4096, 10_000)) for i in range(1, 10_001)]
    jobs = [job(i, cpus=0.5) for i in range(1, 201)]
    result = Matcher(nodes).place(jobs)
    free = {n.node_id: n.free for n in nodes}
    for assignment in result:  # the same choice as a scan of every node would make
        best = min(free, key=lambda node_id: (-free[node_id].cpus, -free[node_id].mem, node_id))
        assert assignment.node_id == best
        free[best] = free[best] - assignment.candidate.required
    assert len(result) == 200
