from gridkb.organisation.linking import expansion_terms, link


def names(text, lexicon):
    return [(l.name, l.surface) for l in link(text, lexicon)]


def test_aliases_link_to_one_entity(lexicon):
    assert names("我的缴费号在哪里看", lexicon) == [("户号", "缴费号")]
    assert names("用户编号是几位", lexicon) == [("户号", "用户编号")]
    assert names("新装要多久", lexicon) == [("业扩报装", "新装")]
    assert names("屋顶太阳能发电怎么申请", lexicon)[0] == ("分布式光伏", "太阳能发电")
    assert names("想申請電費復核", lexicon) == [("电费复核", "电费复核")]  # traditional is normalised first


def test_expansion_adds_canonical_names_and_synonyms(lexicon):
    terms = expansion_terms("报装要几天", lexicon)
    assert "业扩报装" in terms and "新装" in terms
    assert "多久" in terms  # synonym group of 几天
    assert "报装" not in terms  # already in the question
