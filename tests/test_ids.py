import uuid

from coffer.ids import new_id, new_ids


def test_bulk_ids_are_version_7_unique_and_sort_between_the_ids_made_around_them():
    before = new_id()
    ids = new_ids(20_000)
    after = new_id()
    assert len(set(ids)) == 20_000
    assert ids == sorted(ids) and before < ids[0] and ids[-1] < after
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)


def test_two_bulk_calls_do_not_collide_and_nothing_is_asked_for_nothing():
    first, second = new_ids(1000), new_ids(1000)
    assert not set(first) & set(second) and first[-1] < second[0]
    assert new_ids(0) == []
