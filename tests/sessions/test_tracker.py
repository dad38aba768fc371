"""The tracker keeps one id per face across frames, by overlap or by a short jump."""

from __future__ import annotations

from facebank.sessions.tracker import Tracker, TrackerPolicy, iou

POLICY = TrackerPolicy(iou=0.2, max_jump=2.0, max_missed=2)


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert abs(iou((0, 0, 10, 10), (5, 0, 15, 10)) - 1 / 3) < 1e-9


def test_a_walking_face_keeps_its_track_and_a_second_face_gets_another() -> None:
    tracker = Tracker(POLICY)
    first = tracker.update([(0, 0, 50, 50)])[0]
    # Moved more than its size between frames (low fps): no overlap, near enough.
    assert tracker.update([(60, 0, 110, 50)])[0] is first
    a, b = tracker.update([(65, 0, 115, 50), (300, 0, 350, 50)])
    assert a is first and b is not first and b.id != first.id


def test_a_track_survives_missed_frames_up_to_the_limit() -> None:
    tracker = Tracker(POLICY)
    first = tracker.update([(0, 0, 50, 50)])[0]
    tracker.update([])
    tracker.update([])
    assert tracker.update([(0, 0, 50, 50)])[0] is first
    for _ in range(POLICY.max_missed + 1):
        tracker.update([])
    assert tracker.update([(0, 0, 50, 50)])[0] is not first


def test_a_far_or_differently_sized_face_is_a_new_track() -> None:
    tracker = Tracker(POLICY)
    first = tracker.update([(0, 0, 50, 50)])[0]
    assert tracker.update([(0, 0, 150, 150)])[0] is not first  # 3x the size
    tracker = Tracker(POLICY)
    first = tracker.update([(0, 0, 50, 50)])[0]
    assert tracker.update([(200, 0, 250, 50)])[0] is not first  # 4 sizes away


def test_ended_tracks_are_handed_back_once_and_stopping_ends_the_rest() -> None:
    tracker = Tracker(POLICY)
    gone, stays = tracker.update([(0, 0, 50, 50), (300, 0, 350, 50)])
    for _ in range(POLICY.max_missed + 1):
        tracker.update([(300, 0, 350, 50)])
    assert tracker.take_ended() == [gone]
    assert tracker.take_ended() == []
    assert tracker.end_all() == [stays]
    assert tracker.tracks == [] and tracker.end_all() == []
