"""Hand-made anger cues of a shopper message, as numbers (pure functions, no Rasa).

The anger model (bot/anger.py) learns its weights from labelled examples; these cues
give it knowledge that a few hundred examples cannot teach alone: that ！！！ and ？？？
runs, threats of escalation, insults, waiting complaints, outraged rhetorical questions
and all-caps Latin mean anger, while please/thanks and plain urgency do not.
The word lists are cues, not verdicts: the model weighs them against everything else.
"""

from __future__ import annotations

import re
from typing import Dict, List

THREAT_WORDS = (
    "投诉", "12315", "12345", "消协", "消费者协会", "工商", "市场监管", "曝光", "爆光",
    "差评", "一星", "报警", "起诉", "律师", "媒体", "记者", "微博", "抖音", "黑猫", "举报",
)
INSULT_WORDS = (
    "垃圾", "骗子", "骗人", "黑店", "奸商", "坑人", "坑爹", "恶心", "无耻", "傻", "sb", "SB",
    "妈的", "tm", "TM", "他妈", "尼玛", "有病", "脑子", "滚", "破玩意", "什么玩意", "狗屁",
    "废物", "弱智", "智障", "不要脸", "缺德", "混蛋", "王八", "靠", "艹", "草泥马", "cnm",
)
OUTRAGE_PHRASES = (
    "到底", "凭什么", "什么意思", "搞什么", "搞啥", "怎么回事", "什么质量", "什么服务",
    "什么态度", "有没有人管", "管不管", "还想不想", "还要不要", "太过分", "过分了",
    "气死", "受够", "忍无可忍", "无语", "服了", "醉了", "离谱", "欺负", "耍我", "糊弄",
    "敷衍", "踢皮球", "推卸", "不负责", "没完", "别想", "最后一次",
)
SARCASM_PHRASES = (
    "呵呵", "真行", "真棒啊", "真是好", "好服务", "厉害了", "佩服", "骑自行车", "蜗牛",
    "乌龟", "摆设", "谢谢你全家", "真会", "笑死", "666", "牛逼", "nb", "服气",
)
WAITING_PATTERN = re.compile(
    r"(等|催|问)了?(好|快)?(\d+|[一二两三四五六七八九十半几好多]+)(个)?(分钟|小时|钟头|天|周|星期|礼拜|个月|次|遍)"
    r"|没人(回|理|管)|不回(复|消息)?|没有?回复|还没(处理|解决|人|回)|一直没|半天没|石沉大海"
)
CALM_MARKERS = ("麻烦", "请", "谢谢", "辛苦", "劳驾", "拜托", "感谢", "您好", "亲", "哈", "🙏", "😊")
URGENCY_WORDS = ("急用", "着急", "快点", "加急", "尽快", "赶紧", "急")
ANGRY_EMOJI = ("😡", "🤬", "😠", "💢", "👿", "🖕", "😤")

_PUNCT_RUN = re.compile(r"[!?！？]{2,}")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

FEATURE_NAMES: List[str] = [
    "punct_run_count",
    "punct_run_max",
    "exclamations",
    "threat",
    "insult",
    "outrage",
    "sarcasm",
    "waiting",
    "calm_marker",
    "urgency",
    "angry_emoji",
    "caps_words",
    "long_message",
]


def _count(text: str, words: tuple) -> int:
    return sum(text.count(word) for word in words)


def punctuation_runs(text: str) -> List[str]:
    """Runs of two or more ! or ? (either width)."""
    return _PUNCT_RUN.findall(text)


def caps_words(text: str) -> int:
    """All-caps Latin words of three or more letters (WTF, WHAT), minus common acronyms."""
    acronyms = {"OK", "APP", "VIP", "USB", "iOS", "LED", "SKU", "DIY", "NFC", "SIM", "PDF", "CPU", "GPS"}
    return sum(
        1
        for word in _LATIN_WORD.findall(text)
        if len(word) >= 3 and word.isupper() and word not in acronyms
    )


def anger_cues(text: str) -> Dict[str, float]:
    """The numeric cues of one (normalised) message, keyed by FEATURE_NAMES."""
    runs = punctuation_runs(text)
    cues = {
        "punct_run_count": min(len(runs), 3),
        "punct_run_max": min(max((len(r) for r in runs), default=0), 5),
        "exclamations": min(text.count("!") + text.count("！"), 5),
        "threat": min(_count(text, THREAT_WORDS), 3),
        "insult": min(_count(text, INSULT_WORDS), 3),
        "outrage": min(_count(text, OUTRAGE_PHRASES), 3),
        "sarcasm": min(_count(text, SARCASM_PHRASES), 3),
        "waiting": min(len(WAITING_PATTERN.findall(text)), 3),
        "calm_marker": min(_count(text, CALM_MARKERS), 3),
        "urgency": min(_count(text, URGENCY_WORDS), 3),
        "angry_emoji": min(_count(text, ANGRY_EMOJI), 3),
        "caps_words": min(caps_words(text), 3),
        "long_message": 1.0 if len(text) > 60 else 0.0,
    }
    return {name: float(cues[name]) for name in FEATURE_NAMES}


def cue_vector(text: str) -> List[float]:
    cues = anger_cues(text)
    return [cues[name] for name in FEATURE_NAMES]
