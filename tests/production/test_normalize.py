from gridkb.production.normalize import compact, fold_width, normalize_line, normalize_query, strip_inline_pinyin, to_simplified


def test_traditional_becomes_simplified():
    assert to_simplified("南方電網公司現代供電服務體系") == "南方电网公司现代供电服务体系"
    assert to_simplified("电费缴纳") == "电费缴纳"


def test_inline_pinyin_is_removed_but_real_brackets_stay():
    assert strip_inline_pinyin("南方電網(wǎng)公司現(xiàn)代") == "南方電網公司現代"
    assert strip_inline_pinyin("網（wǎng）") == "網"
    assert normalize_line("服務(wù)體系(見附件)") == "服务体系（见附件）"
    assert normalize_line("GB/T 1.1(2020)") == "GB/T 1.1(2020)"


def test_width_folding_keeps_chinese_punctuation():
    assert fold_width("０．５９元／千瓦时，ＡＰＰ") == "0.59元/千瓦时，APP"


def test_spaces_between_chinese_removed_never_inserted():
    assert normalize_line("前 言") == "前言"
    assert normalize_line("不超过 5 个工作日") == "不超过 5 个工作日"
    line = normalize_line("低压居民用户从受理到装表接电不超过5个工作日")
    assert " " not in line


def test_half_width_punctuation_inside_chinese_becomes_full_width():
    assert normalize_line("日前,《方案》印發,圍繞") == "日前，《方案》印发，围绕"
    assert normalize_line("时间 10:00-12:00") == "时间 10:00-12:00"


def test_query_noise_collapses():
    assert normalize_query("電費怎麼交？？？\n") == "电费怎么交？"
    assert compact(" 5 个 工作日 ") == "5个工作日"
