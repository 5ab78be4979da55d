from bot.anger_features import FEATURE_NAMES, anger_cues, caps_words, cue_vector, punctuation_runs


def test_punctuation_runs_count_either_width():
    assert punctuation_runs("人呢??? 到底管不管！！") == ["???", "！！"]
    assert punctuation_runs("在吗?") == []


def test_threats_insults_waiting_and_sarcasm_are_cues():
    cues = anger_cues("等了三天没人回，垃圾店，我要去12315投诉，这速度是骑自行车送的吧")
    assert cues["waiting"] >= 1
    assert cues["insult"] >= 1
    assert cues["threat"] >= 2
    assert cues["sarcasm"] >= 1


def test_urgency_and_politeness_are_separate_from_anger_cues():
    cues = anger_cues("麻烦快点 急用 谢谢")
    assert cues["urgency"] >= 1 and cues["calm_marker"] >= 1
    assert cues["threat"] == cues["insult"] == cues["waiting"] == 0


def test_caps_words_ignore_common_acronyms():
    assert caps_words("WTF 你们 WHAT") == 2
    assert caps_words("APP 打不开 OK") == 0


def test_vector_has_one_value_per_feature():
    assert len(cue_vector("你好")) == len(FEATURE_NAMES)
