"""The package's messages to a learner follow set_language(): same errors, same types, in en, tr and zh."""

import math
import re
import warnings

import pytest
import torch

from reptile_edu import MLP, DivergenceError, EpisodeSampler, SineFamily, evaluate, i18n, pick_device, reptile
from reptile_edu.messages import ARGUMENTS, MESSAGES, message, placeholders
from reptile_edu.omniglot import load_lake_runs, load_omniglot

FAM = SineFamily("maml")


@pytest.fixture
def language():
    """``language("tr")`` switches the package's language as a lesson's set-up cell does; English afterwards."""

    def switch(lang: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a machine without a CJK font warns about Chinese plots
            i18n.set_language(lang)

    yield switch
    switch("en")


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_exists_in_three_languages_with_the_same_placeholders(key):
    en, tr, zh = MESSAGES[key]
    assert en.strip() and tr.strip() and zh.strip()
    assert placeholders(tr) == placeholders(en), f"{key}: Turkish placeholders differ from English"
    assert placeholders(zh) == placeholders(en), f"{key}: Chinese placeholders differ from English"
    assert re.search(r"[\u4e00-\u9fff]", zh) or not re.search(r"[a-z]{4,}", re.sub(r"\{[^}]*\}|`[^`]*`", "", zh)), (
        f"{key}: the Chinese text looks untranslated"
    )


def test_argument_names_keep_the_python_name_and_translate_the_words():
    for english, (en, tr, zh) in ARGUMENTS.items():
        assert en == english
        python_name = english.split(" ")[0]
        assert tr.startswith(python_name + " (") and zh.startswith(python_name + "（"), (english, tr, zh)


def test_a_missing_key_is_a_key_error():
    with pytest.raises(KeyError):
        message("no such message")


def test_argument_errors_follow_the_language_and_keep_their_type(language):
    language("tr")
    k_zero = r"^k \(iç adım sayısı\), 1 ya da daha büyük bir tam sayı olmalı \(≥ 1\); 0 verildi\.$"
    with pytest.raises(ValueError, match=k_zero):
        reptile(MLP(), FAM, steps=1, k=0, progress=False)
    with pytest.warns(UserWarning, match=r"ε \(epsilon\)=1.5 > 1: dış adım"):
        reptile(MLP(), FAM, steps=1, k=1, eta=0.001, epsilon=1.5, progress=False)
    with pytest.raises(ValueError, match=r"device 'cpu', 'cuda' ya da 'cuda:N' olmalı; 'tpu' verildi"):
        pick_device("tpu")
    language("zh")
    # Full-width punctuation, and no space after it.
    with pytest.raises(ValueError, match=r"^k（内循环步数）必须是 ≥ 1 的整数，但传入的是 0。$"):
        reptile(MLP(), FAM, steps=1, k=0, progress=False)
    with pytest.raises(TypeError, match=r"^η（eta）必须是数字，但传入的是 '0.1'（str）。$"):
        reptile(MLP(), FAM, steps=1, eta="0.1", progress=False)
    with pytest.raises(ValueError, match=r"^ε（epsilon）必须是大于 0 的有限数（> 0），但传入的是 0.0。$"):
        reptile(MLP(), FAM, steps=1, epsilon=0.0, progress=False)
    language("en")
    with pytest.raises(ValueError, match=r"^k \(inner steps\) must be an integer ≥ 1; got 0\.$"):
        reptile(MLP(), FAM, steps=1, k=0, progress=False)


def test_more_shots_than_a_class_has_is_explained_in_the_language(language):
    images = torch.zeros(5, 4, 28, 28, dtype=torch.uint8)  # 5 classes × 4 instances
    language("zh")
    too_many = r"^shots 必须是介于 1 和 3 之间的整数，但传入的是 4（每个类别有 4 个样本，shots 与 queries（1）之和"
    with pytest.raises(ValueError, match=too_many):
        EpisodeSampler(images, ways=5, shots=4, queries=1)
    language("tr")
    too_many = r"^ways, 2 ile 5 arasında bir tam sayı olmalı; 6 verildi \(toplam 5 sınıf var\)\.$"
    with pytest.raises(ValueError, match=too_many):
        EpisodeSampler(images, ways=6)


def test_divergence_says_so_in_the_language(language):
    language("zh")
    torch.manual_seed(0)
    model = MLP.preset("maml")
    diverged = r"^Reptile：在外循环第 \d+ 步发散，损失或参数变成了 (NaN|无穷大)。请调小内循环学习率 η（eta=50）"
    with pytest.raises(DivergenceError, match=diverged) as info:
        g = torch.Generator().manual_seed(0)
        reptile(model, FAM, steps=50, k=5, eta=50.0, epsilon=1.0, generator=g, progress=False)
    assert isinstance(info.value, FloatingPointError) and info.value.method == "Reptile" and info.value.step >= 1
    with pytest.raises(DivergenceError, match=r"^适应：在内循环第 \d+ 步发散"):
        evaluate(MLP.preset("maml"), FAM, k=20, eta=100.0, num_tasks=5)
    update = DivergenceError("Adaptation", 2, math.inf, message("hint_eta", eta=0.5), unit="adaptation update")
    expected = "适应：在第 2 次适应更新时发散，损失或参数变成了无穷大。请调小内循环学习率 η（eta=0.5）"
    assert str(update).startswith(expected), str(update)
    with pytest.raises(ValueError, match="^unit"):
        DivergenceError("Reptile", 1, math.nan, "η", unit="epoch")
    language("tr")
    err = DivergenceError("Joint training", 3, math.nan, message("hint_lr", lr=0.5))
    assert str(err) == (
        "Ortak eğitim 3. dış adımda ıraksadı: kayıp ya da parametreler NaN oldu. Yeniden çalıştırmadan önce "
        "öğrenme oranını (lr=0.5) küçültün. Model, 3. adımdan önceki parametrelerini koruyor."
    )


def test_missing_datasets_are_named_in_the_language(language, tmp_path):
    language("tr")
    missing = r"^Omniglot bulunamadı: ne .*images_background/ ne de .*images_background\.zip var"
    with pytest.raises(FileNotFoundError, match=missing):
        load_omniglot(tmp_path)
    language("zh")
    with pytest.raises(FileNotFoundError, match=r"^找不到 Lake 的单样本测试集（one-shot runs）：.*nowhere 不存在。$"):
        load_lake_runs(tmp_path / "nowhere")
    (tmp_path / "images_background.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"images_background\.zip：不是可读取的 zip 文件（下载损坏或不完整？）"):
        load_omniglot(tmp_path)


def test_chinese_package_texts_use_full_width_punctuation_next_to_chinese():
    """准确率（%）, not 准确率 (%): a remark in brackets takes full-width ones, and half-width , : ; ! ? never
    touch a Chinese character in zh texts (a formula such as (1 − d_t) keeps its half-width brackets)."""
    from reptile_edu.exercises import MESSAGES as EXERCISES
    from reptile_edu.i18n import STRINGS

    cjk = r"[\u4e00-\u9fff]"
    half_width = re.compile(rf"\([^()]*[\u4e00-\u9fff%][^()]*\)|{cjk}[,:;!?]|[,:;!?] *{cjk}")
    for table in (MESSAGES, EXERCISES, STRINGS):
        bad = {key: texts[2] for key, texts in table.items() if half_width.search(re.sub(r"\{[^}]*\}", "", texts[2]))}
        assert not bad, bad


def test_what_print_shows_of_the_package_objects_follows_the_language(language):
    """Lesson 02 prints a CharacterSet and an EpisodeSampler, lessons 03 and 07 the machine: a learner reads them
    in the lesson's language; repr() stays English for developers, and result files name the machine in English."""
    from reptile_edu.characters import CharacterSet
    from reptile_edu.measure import machine, machine_info

    chars = CharacterSet(
        images=torch.zeros(6, 4, 28, 28, dtype=torch.uint8),
        alphabet_of=torch.tensor([0, 0, 0, 1, 1, 1]),
        alphabets=("A", "B"),
        class_names=tuple("abcdef"),
        source="built-in alphabets (seed 3)",
    )
    sampler = EpisodeSampler(chars, ways=5, shots=2, queries=2, rotations=True)
    english_repr = (repr(chars), repr(sampler))
    assert english_repr[0] == (
        "CharacterSet(built-in alphabets (seed 3): 6 classes × 4 instances, 2 alphabets, (28, 28) pixels)"
    )
    language("tr")
    assert str(chars) == "yerleşik alfabeler (tohum 3): 6 sınıf × 4 örnek, 2 alfabe, 28 × 28 piksel"
    assert str(sampler).startswith("5 sınıflı, sınıf başına 2 örnekli bölümler (her sınıftan 2 sorgu örneğiyle), 24")
    assert str(sampler).endswith("(döndürülmüş hâller ayrı sınıf sayılıyor)")
    assert re.search(r", \d+ CPU çekirdeği, torch \S+, \d+ iş parçacığı$", machine("cpu"))
    language("zh")
    assert str(chars) == "内置字母表（随机种子 3）：6 个类别 × 每类 4 个样本，2 个字母表，28 × 28 像素"
    assert str(sampler) == (
        "5 类 2 样本的情节，每类 2 个查询样本，从 24 个类别 × 每类 4 个样本中抽取（旋转后的字符算作新类别）"
    )
    assert re.search(r"，\d+ 个 CPU 核心，torch \S+，\d+ 个线程$", machine("cpu"))
    assert "CPU cores" in machine_info()["description"]
    assert (repr(chars), repr(sampler)) == english_repr


def test_errors_of_the_tools_lessons_use_follow_the_language(language):
    """Schedules (ε's end, anneal with a schedule), minibatch sizes, the dynamics probes, GAE's λ and PPO's
    settings: the same exception types, the argument and its allowed range, in Turkish and Chinese."""
    from reptile_edu.dynamics import across_task_cosine, off_diagonal_mean
    from reptile_edu.inner import InnerLoop
    from reptile_edu.rl.buffer import gae
    from reptile_edu.rl.ppo import PPOSettings, episode_slices
    from reptile_edu.schedules import Linear, as_schedule

    rewards = torch.zeros(1, 1, 3)
    language("tr")
    with pytest.raises(ValueError, match=r"^λ \(lam\), 0 ile 1 arasında bir sayı olmalı; 1.5 verildi\.$"):
        gae(rewards, rewards, rewards, lam=1.5)
    with pytest.raises(ValueError, match=r"^end \(son ε değeri\) sonlu ve 0 ya da daha büyük bir sayı olmalı"):
        Linear(1.0, end=-1.0)
    with pytest.raises(ValueError, match=r"^anneal=True doğrusal takvimi ister, ama epsilon zaten bir takvim"):
        as_schedule(Linear(1.0), anneal=True)
    with pytest.raises(ValueError, match=r"^batch_size, destek noktası sayısını \(10\) tam bölmeli; 3 verildi\.$"):
        InnerLoop(k=2, eta=0.1, batch_size=3).slices(10)
    with pytest.raises(ValueError, match=r"en az 2 mini-yığın gerekir"):
        off_diagonal_mean(torch.zeros(2, 1, 1))
    language("zh")
    with pytest.raises(ValueError, match=r"^entropy_coef 必须是 ≥ 0 的有限数，但传入的是 -0.1。$"):
        PPOSettings(entropy_coef=-0.1)
    with pytest.raises(ValueError, match=r"^λ（lam）必须是介于 0 和 1 之间的数，但传入的是 -0.5。$"):
        PPOSettings(lam=-0.5)
    with pytest.raises(ValueError, match=r"^batch_episodes 必须能整除每个任务的情节数（10），但传入的是 4。$"):
        episode_slices(10, 2, 4)
    with pytest.raises(ValueError, match=r"^比较不同任务至少需要 2 个探测任务，但传入的是 1 个。$"):
        across_task_cosine(torch.zeros(1, 2, 3))
    with pytest.raises(TypeError, match=r"^end（最终的 ε）必须是数字"):
        Linear(1.0, end="0")
