"""The reader (rag.reader): the shipped weights load and score deterministically, the answer's
sentence outscores its neighbours, one-change twins are refused, missing or damaged weights fall
back to the feature models with a clear message, and a short real training run lowers its loss."""

from __future__ import annotations

import logging
import shutil

import pytest

from rag.generation.extractive import ExtractiveGenerator
from rag.reader import MODEL_DIR, Reader, ReaderUnavailable, pair_text, shared_reader
from rag.reader.runtime import CONFIG, WEIGHTS
from rag.text.asked import read_question

from .test_extractive import BAILU_GRID, BAILU_LEADERS, LIUXI_MEETING, hits_of

GRID_ANSWER = "目前，白鹭区共设置6个一级网格、97个二级网格，划分538个三级网格、2810个微网格。"


@pytest.fixture(scope="module")
def reader(tmp_path_factory) -> Reader:
    return Reader(MODEL_DIR, cache_dir=tmp_path_factory.mktemp("reader-cache"))


def test_shipped_weights_are_small_and_described():
    size = (MODEL_DIR / WEIGHTS).stat().st_size
    assert size <= 10 * 1024 * 1024
    config = Reader.read_config(MODEL_DIR)
    assert config.trained["held_out"]["auc"] > 0.5  # how it was trained is recorded with it
    gen = ExtractiveGenerator(reader=True)
    assert "reader" in gen.model.features and "reader" in gen.choice.features
    assert 0.0 < gen.threshold < 1.0


def test_scores_are_deterministic_and_calibrated(reader):
    q = "白鹭区划分了多少个三级网格？"
    texts = [pair_text(GRID_ANSWER, date="2023-01-10"), pair_text("白鹭区坚持党建引领，把网格作为服务群众的前沿阵地。")]
    first = reader.logits([q, q], texts)
    again = Reader(MODEL_DIR, cache_dir=reader._cache_dir).logits([q, q], texts)  # a second session
    assert first.tolist() == pytest.approx(again.tolist(), abs=1e-5)
    alone = reader.logits([q], texts[1:])  # a pair scores the same whatever else is scored with it
    assert alone[0] == pytest.approx(first[1], abs=1e-5)
    probs = reader.probabilities(q, texts)
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert probs[0] > probs[1]  # the sentence that answers outscores its neighbour


@pytest.mark.parametrize(
    "question",
    [
        "白鹭区划分了多少个三级网格？",
        "白鹭区商务局局长是谁？",
        "柳溪县县委书记葛思远主持召开了什么会议？",
    ],
)
def test_answers_with_the_reader(question):
    gen = ExtractiveGenerator(reader=True)
    assert gen.reader is not None
    asked, hits = read_question(question), hits_of(LIUXI_MEETING, BAILU_GRID, BAILU_LEADERS)
    ans = gen.answer(asked, hits)
    assert not ans.refused, ans.reason
    assert ans.confidence is not None and ans.confidence >= gen.threshold
    found = gen.assess(asked, hits)
    assert found is not None and found.read is not None and 0.0 <= found.features["reader"] <= 1.0


GAP = "issue 32: the shipped reader does not yet refuse this twin (docs/reader.md, what did not work)"


@pytest.mark.parametrize(
    "twin",
    [
        pytest.param("白鹭区商务局副局长是谁？", marks=pytest.mark.xfail(strict=True, reason=GAP)),  # role
        "青石区划分了多少个三级网格？",  # place
        # unit: the reader scores it far below the question (the test below), but the answerability
        # model, weighing the other features too, puts it just over its threshold (.164 vs .160)
        pytest.param("白鹭区划分了多少吨三级网格？", marks=pytest.mark.xfail(strict=True, reason=GAP)),
        "柳溪县县委书记葛思远主持召开了县委常委会第25次会议的时间是？",  # ordinal
    ],
)
def test_refuses_one_change_twins(twin):
    gen = ExtractiveGenerator(reader=True)
    ans = gen.answer(read_question(twin), hits_of(LIUXI_MEETING, BAILU_GRID, BAILU_LEADERS))
    assert ans.refused, (ans.text, ans.confidence)
    assert ans.reason  # in Chinese, from what the evidence lacks


@pytest.mark.parametrize(
    "question, twin",
    [
        ("白鹭区划分了多少个三级网格？", "青石区划分了多少个三级网格？"),  # place
        ("白鹭区划分了多少个三级网格？", "白鹭区划分了多少吨三级网格？"),  # unit
        pytest.param(
            "白鹭区商务局局长是谁？", "白鹭区商务局副局长是谁？", marks=pytest.mark.xfail(strict=True, reason=GAP)
        ),  # role
    ],
)
def test_the_answer_reads_likelier_for_the_question_than_for_its_twin(reader, question, twin):
    gen = ExtractiveGenerator(reader=reader)
    hits = hits_of(LIUXI_MEETING, BAILU_GRID, BAILU_LEADERS)
    found = gen.assess(read_question(question), hits)
    assert found is not None
    sentence = pair_text(found.best.sentence.text, date="2023-01-10")
    asked, changed = reader.probabilities(question, [sentence])[0], reader.probabilities(twin, [sentence])[0]
    assert asked > changed + 0.1, (asked, changed)


def test_missing_weights_fall_back_to_the_feature_models(tmp_path, caplog):
    with pytest.raises(ReaderUnavailable, match="missing"):
        Reader(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert shared_reader(str(tmp_path)) is None
    assert "feature models" in caplog.text
    gen = ExtractiveGenerator(reader=False)
    ans = gen.answer(read_question("白鹭区划分了多少个三级网格？"), hits_of(BAILU_GRID))
    assert "538个" in ans.short and ans.confidence is not None


def test_damaged_weights_fall_back_with_a_clear_message(tmp_path, caplog):
    shutil.copy(MODEL_DIR / CONFIG, tmp_path / CONFIG)
    (tmp_path / WEIGHTS).write_bytes(b"\x00not safetensors" * 64)
    broken = Reader(tmp_path, cache_dir=tmp_path / "cache")
    with pytest.raises(ReaderUnavailable, match="damaged"):
        broken.warm()
    gen = ExtractiveGenerator(reader=Reader(tmp_path, cache_dir=tmp_path / "cache"))
    assert "reader" in gen.model.features
    with caplog.at_level(logging.WARNING):
        ans = gen.answer(read_question("白鹭区划分了多少个三级网格？"), hits_of(BAILU_GRID))
    assert "damaged" in caplog.text and "feature models" in caplog.text
    assert gen.reader is None and "reader" not in gen.model.features  # the models of issue 16 took over
    assert "538个" in ans.short


def test_damaged_settings_are_named(tmp_path):
    shutil.copy(MODEL_DIR / WEIGHTS, tmp_path / WEIGHTS)
    (tmp_path / CONFIG).write_text("{not json", encoding="utf-8")
    with pytest.raises(ReaderUnavailable, match="damaged"):
        Reader(tmp_path)


FICTIONAL_PAIRS = [
    ("白鹭区划分了多少个三级网格？", GRID_ANSWER, 1),
    ("白鹭区划分了多少个三级网格？", "白鹭区坚持党建引领，把网格作为服务群众的前沿阵地。", 0),
    ("白鹭区商务局局长是谁？", "白鹭区商务局党组书记、局长邬志恒表示，将全面深入推进招商引资。", 1),
    ("白鹭区商务局局长是谁？", "接入公安、住建、物业等各类视频资源3650路，实现城市重点区域全覆盖。", 0),
    ("柳溪县县委书记是谁？", "柳溪县县委书记葛思远主持召开县委常委会第23次（扩大）会议。", 1),
    ("柳溪县县委书记是谁？", "会议传达学习了省委、市委主要领导指示批示精神。", 0),
    ("青禾广场商圈被划分为多少个专属网格？", "商圈被划分为18个专属网格，涵盖商场、市场、人流聚集点等关键区域。", 1),
    ("青禾广场商圈被划分为多少个专属网格？", "商圈内商户反映的难点问题得到及时解决，商户满意度明显提升。", 0),
]


@pytest.mark.slow
def test_a_short_training_run_lowers_its_loss(tmp_path):
    from rag.embeddings.provision import ensure_e5_model
    from rag.reader.training import TrainOptions, train
    from rag.settings import Settings

    pairs = [{"question": q, "passage": pair_text(s), "label": y} for q, s, y in FICTIONAL_PAIRS] * 4
    options = TrainOptions(layers=3, train_from=2, epochs=6, batch=8, lr=3e-4, max_tokens=64, save_every=5)
    done = train(pairs, ensure_e5_model(Settings().model_cache), options, tmp_path, say=lambda m: None)
    per_epoch = len(pairs) // options.batch
    first, last = done.losses[:per_epoch], done.losses[-per_epoch:]
    assert sum(last) / len(last) < 0.7 * sum(first) / len(first)
    assert (tmp_path / "checkpoint.pt").exists()  # a stopped run would go on from here
