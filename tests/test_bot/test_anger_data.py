import pytest

from bot.anger_data import AngerDataError, load_examples


def test_loads_every_yaml_file_of_a_directory(tmp_path):
    (tmp_path / "a.yml").write_text("angry:\n  - 垃圾\ncalm:\n  - 你好\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("calm:\n  - 谢谢\n", encoding="utf-8")
    examples = load_examples(tmp_path)
    assert sorted((e.text, e.angry) for e in examples) == [("你好", False), ("垃圾", True), ("谢谢", False)]


@pytest.mark.parametrize(
    "content",
    ["- just a list\n", "angry: 垃圾\n", "angry:\n  - ''\ncalm:\n  - 好\n", "furious:\n  - 啊\n", "angry: [\n"],
)
def test_malformed_files_are_errors_naming_the_file(tmp_path, content):
    path = tmp_path / "bad.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AngerDataError, match="bad.yml"):
        load_examples(path)


def test_one_sided_data_is_refused(tmp_path):
    (tmp_path / "a.yml").write_text("calm:\n  - 你好\n", encoding="utf-8")
    with pytest.raises(AngerDataError, match="both"):
        load_examples(tmp_path)


def test_project_anger_data_loads():
    examples = load_examples("data/anger")
    assert sum(e.angry for e in examples) >= 300
    assert sum(not e.angry for e in examples) >= 400
