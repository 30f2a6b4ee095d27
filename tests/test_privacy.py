"""The masker: personal numbers however they are written, ordinary figures left alone; and the same
numbers taken out of a question."""

import re

import pytest

from gridkb.privacy import contains_personal_data, fold_digits, mask_personal_data, without_personal_data

MASKED = [
    ("手机13812345678", "手机138****5678"),
    ("138-1234-5678", "138-****-5678"),
    ("138 1234 5678", "138 **** 5678"),
    ("+86 138 1234 5678", "+86 138 **** 5678"),
    ("+86-13812345678", "+86-138****5678"),
    ("００８６１３８１２３４５６７８", "００８６１３８****５６７８"),
    ("１３８１２３４５６７８", "１３８****５６７８"),
    ("１３８－１２３４－５６７８", "１３８－****－５６７８"),
    ("电话 13812345678 或 13912345678", "电话 138****5678 或 139****5678"),
    ("身份证44010419900101123X", "身份证440***********123X"),
    ("身份证 110101 19900307 123x", "身份证 110*** ******** 123x"),
    ("身份证４４０１０４１９９００１０１１２３Ｘ", "身份证４４０***********１２３Ｘ"),
    ("卡号 6222 0200 1234 5678", "卡号 6222 **** **** 5678"),
    ("卡号6222021234567890123", "卡号6222***********0123"),
    ("卡号 6222-0212-3456-7890-12", "卡号 6222-****-****-**90-12"),
    ("户号 3100123456", "户号 31******56"),
    ("户号：３１００１２３４５６", "户号：３１******５６"),
    ("用户编号是0301567842", "用户编号是03******42"),
]
ORDINARY = [
    "2025-01-01", "2025年1月1日", "0.59 元/千瓦时", "95598", "12398", "400 千瓦时", "4008165598", "5 个工作日",
    "GD20261124-000123", "12345678.90 元", "GB/T 12325-2008", "1000 kVA", "10 kV", "220 V",
]


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_personal_numbers_are_masked_however_written(text, masked):
    assert mask_personal_data(text) == masked
    assert contains_personal_data(text) and not contains_personal_data(masked)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_figures_are_left_alone(text):
    assert mask_personal_data(text) == text


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_personal_numbers_are_taken_out_whole_and_masked_ones_too(text, masked):
    for written in (text, masked):
        left = without_personal_data(written)
        assert not re.search(r"\d{3}", fold_digits(left)) and "*" not in left and not contains_personal_data(left), left
    assert without_personal_data("电费怎么交？我的电话是 13812345678，谢谢") == "电费怎么交？我的电话是 ，谢谢"


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_figures_stay_in_a_question(text):
    assert without_personal_data(text) == text
