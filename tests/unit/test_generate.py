"""The organisations the demo generator makes: prefectures first, then municipalities, each code a
全国地方公共団体コード with its check digit, and the cases spread over them exactly."""

import random

from shingi.generate import PREFECTURES, allocate, check_digit, places


def test_codes_carry_the_check_digit_of_real_ones():
    assert check_digit("01000") == "010006"  # 北海道
    assert check_digit("01100") == "011002"  # 札幌市
    assert check_digit("13101") == "131016"  # 千代田区


def test_prefectures_come_first_then_municipalities_with_their_heads():
    made = places(200, random.Random(1))
    assert [place.name for place in made[:47]] == list(PREFECTURES)
    assert all(place.head_title.endswith("知事") for place in made[:47])
    municipalities = made[47:]
    assert {place.grade for place in municipalities} == {"市", "町", "村"}
    assert all(place.name.endswith(place.grade) and place.head_title == f"{place.name}長" for place in municipalities)
    codes = [place.code for place in made]
    assert len(set(codes)) == len(codes) and all(len(code) == 6 and code.isdigit() for code in codes)
    assert all(check_digit(code[:5]) == code for code in codes)


def test_codes_already_taken_are_passed_over():
    taken = frozenset({"010006", "012025"})
    assert not taken & {place.code for place in places(100, random.Random(1), taken)}


def test_cases_are_spread_exactly_by_shares():
    assert allocate(10, [6, 2, 1, 1]) == [6, 2, 1, 1]
    assert sum(allocate(100_000, [6] * 47 + [2, 1] * 800)) == 100_000
