from linli_points.domain import expirable_points


def test_spending_uses_the_oldest_points_first() -> None:
    assert expirable_points(credited_before_cutoff=100, debited_ever=30) == 70


def test_nothing_expires_when_more_was_spent_than_is_old() -> None:
    assert expirable_points(credited_before_cutoff=50, debited_ever=80) == 0
