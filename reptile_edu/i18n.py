"""One language setting for widget labels, messages and plot text: English, Turkish or Chinese.

The set-up cell of every lesson calls ``set_language()``. With no argument it reads the
language the notebook records in its metadata (``reptile_edu.notebook_file``), so a lesson
keeps its language when moved; else the notebook's folder (``notebooks/en``, ``notebooks/tr``,
``notebooks/zh``); else ``REPTILE_EDU_LANG``. The code is the same in all three editions.

Chinese plot text needs a CJK font. ``plot_language()`` is ``"zh"`` only when matplotlib
can find one (e.g. Debian's ``fonts-noto-cjk``; one installed later is found after a kernel
restart, see ``cjk_font``); otherwise plots fall back to English labels, never to empty boxes.
"""

from __future__ import annotations

import logging
import os
import unicodedata
import warnings
from functools import lru_cache
from pathlib import Path

from ._checks import check_choice
from .messages import message
from .notebook_file import notebook_language

LANGUAGES = ("en", "tr", "zh")
LANG_ENV = "REPTILE_EDU_LANG"

#: CJK fonts matplotlib may find, most preferred first.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Hiragino Sans GB",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)

_state = {"lang": "en"}

# key → (English, Türkçe, 中文). Symbols (k, η, ε, θ, θ̃, n) are the same in every language.
STRINGS: dict[str, tuple[str, str, str]] = {
    # the set-up cell's budget line
    "budget_smoke": (
        "smoke (quick check; {env}=smoke)",
        "smoke (hızlı deneme; {env}=smoke)",
        "smoke（快速检查；{env}=smoke）",
    ),
    "budget_full": ("full", "full (tam çalıştırma)", "full（完整运行）"),
    # widgets
    "k": ("k inner steps", "k iç adım sayısı", "k 内循环步数"),
    "eta": ("η inner learning rate", "η iç öğrenme oranı", "η 内循环学习率"),
    "epsilon": ("ε meta step size", "ε meta adım büyüklüğü", "ε 元步长"),
    "n": ("n tasks per meta-batch", "n meta-yığındaki görev sayısı", "n 元批次中的任务数"),
    "steps": ("outer steps", "dış adım sayısı", "外循环步数"),
    "ways": ("N classes (N-way)", "N sınıf (N-way)", "N 类（N-way）"),
    "shots": ("K shots per class", "sınıf başına K örnek", "K 每类样本数"),
    "run": ("Run", "Çalıştır", "运行"),
    "stop": ("Stop", "Durdur", "停止"),
    "ready": (
        "Ready. Move the sliders, then press Run.",
        "Hazır. Kaydırıcıları ayarlayıp Çalıştır'a basın.",
        "准备就绪。调整滑块后点击“运行”。",
    ),
    "training": (
        "Meta-training… outer step {step} of {total}",
        "Meta-eğitim sürüyor… dış adım {step} / {total}",
        "正在元训练……外循环第 {step} / {total} 步",
    ),
    "done": (
        "Done: {step} outer steps in {seconds:.1f} s. Held-out tasks, MSE after {k_eval} steps with "
        "η = {eta_eval:g}: {mse:.3f}",
        "Bitti: {step} dış adım {seconds:.1f} saniyede tamamlandı. "
        "Eğitimde görülmemiş görevlerde η = {eta_eval:g} ile {k_eval} adımdan sonra ortalama kare hata: {mse:.3f}",
        "完成：用时 {seconds:.1f} 秒，共 {step} 个外循环步。留出任务上以 η = {eta_eval:g} 适应 {k_eval} 步后的"
        "均方误差：{mse:.3f}",
    ),
    "stopped": (
        "Stopped at outer step {step}. Press Run to continue from here.",
        "{step}. dış adımda durduruldu. Kaldığı yerden sürdürmek için Çalıştır'a basın.",
        "已在外循环第 {step} 步停止。点击“运行”可从这里继续。",
    ),
    "diverged": (
        "Training diverged at outer step {step}: the loss or the parameters became {value}. "
        "Lower η (now {eta:g}) or ε (now {epsilon:g}) and press Run again. "
        "θ is back where it was before this run.",
        "Eğitim {step}. dış adımda ıraksadı: kayıp ya da parametreler {value} oldu. "
        "η'yı (şu an {eta:g}) ya da ε'u (şu an {epsilon:g}) küçültüp yeniden Çalıştır'a basın. "
        "θ, bu çalıştırmadan önceki hâline döndürüldü.",
        "训练在外循环第 {step} 步发散：损失或参数变成了 {value}。"
        "请减小 η（当前为 {eta:g}）或 ε（当前为 {epsilon:g}），然后再次点击“运行”。θ 已恢复到这次运行之前的状态。",
    ),
    "done_fewshot": (
        "Done: {step} outer steps in {seconds:.1f} s. Held-out {ways}-way {shots}-shot accuracy: "
        "{accuracy:.1f} ± {half:.1f} %",
        "Bitti: {step} dış adım {seconds:.1f} saniyede tamamlandı. "
        "Eğitimde görülmemiş {ways} sınıflı, sınıf başına {shots} örnekli görevlerde doğruluk: "
        "%{accuracy:.1f} ± {half:.1f}",
        "完成：用时 {seconds:.1f} 秒，共 {step} 个外循环步。{ways} 类 {shots} 样本留出任务上的准确率："
        "{accuracy:.1f}% ± {half:.1f}%",
    ),
    "reset": ("Reset θ", "θ'yı sıfırla", "重置 θ"),
    # plots
    "x": ("x", "x", "x"),
    "y": ("y", "y", "y"),
    "true": ("true function", "gerçek fonksiyon", "真实函数"),
    "support": ("support points (K = {k})", "destek noktaları (K = {k})", "支持集样本点（K = {k}）"),
    "query": ("query points", "sorgu noktaları", "查询集样本点"),
    "before": ("θ, before adaptation", "θ, uyarlamadan önce", "θ（适应前）"),
    # zh: plain θ̃ (θ + combining tilde U+0303) is drawn by DejaVu Sans, first in the font list (plot_rc).
    # Not mathtext: a $…$ label is drawn with that one font, and its Chinese characters would be boxes.
    "after": ("θ̃, after k = {k}", "θ̃, k = {k} adım sonra", "θ̃（适应 k = {k} 步后）"),
    "outer_step": ("outer step", "dış adım", "外循环步数"),
    "inner_step": ("inner steps of SGD", "SGD iç adım sayısı", "SGD 内循环步数"),
    "loss": ("loss", "kayıp", "损失"),
    "mse": ("mean squared error", "ortalama kare hata", "均方误差"),
    "accuracy": ("accuracy", "doğruluk", "准确率"),
    "accuracy_percent": ("accuracy (%)", "doğruluk (%)", "准确率（%）"),
    "time_s": ("time (s)", "süre (sn)", "时间（秒）"),
    "memory_mib": ("peak memory (MiB)", "en yüksek bellek kullanımı (MiB)", "峰值内存（MiB）"),
    "training_curve": ("Meta-training", "Meta-eğitim", "元训练"),
    "held_out": ("A held-out task", "Eğitimde görülmemiş bir görev", "一个留出任务"),
    "adaptation": ("Adaptation to held-out tasks", "Görülmemiş görevlere uyarlama", "在留出任务上的适应"),
    "joint": ("joint training", "ortak eğitim", "联合训练"),
    "scratch": ("random start", "rastgele başlangıç", "随机初始化"),
    # lesson 06's few-shot methods
    "reptile_nt": ("Reptile (non-transductive)", "Reptile (transdüktif olmayan)", "Reptile（非直推式）"),
    "pretrain": ("all-class pre-training + fine-tuning", "tüm sınıflarla ön eğitim + ince ayar", "全类别预训练 + 微调"),
    "protonet": ("Prototypical Networks", "prototip ağları", "原型网络"),
    "protonet_nt": (
        "Prototypical Networks (non-transductive)",
        "prototip ağları (transdüktif olmayan)",
        "原型网络（非直推式）",
    ),
    "nearest": ("nearest neighbour (pixels)", "en yakın komşu (pikseller)", "最近邻（像素）"),
    # lessons 01–02
    "sgd_steps": ("SGD steps", "SGD adım sayısı", "SGD 步数"),
    "support_set": ("support set", "destek kümesi", "支持集"),
    "query_set": ("query set", "sorgu kümesi", "查询集"),
    "average": ("average over tasks, E[y]", "görevler üzerinden ortalama, E[y]", "各任务的平均 E[y]"),
    "sampled_tasks": ("sampled tasks", "örneklenen görevler", "抽取的任务"),
    "meta_train_task": ("meta-training task {t}", "meta-eğitim görevi {t}", "元训练任务 {t}"),
    "meta_test_task": ("meta-test task", "meta-test görevi", "元测试任务"),
    "class_n": ("class {c}", "sınıf {c}", "类别 {c}"),
    "meta_train_alphabets": ("meta-training alphabets", "meta-eğitim alfabeleri", "元训练字母表"),
    "meta_test_alphabets": ("meta-test alphabets", "meta-test alfabeleri", "元测试字母表"),
    "alphabet": ("alphabet", "alfabe", "字母表"),
    "chance": ("chance", "şans düzeyi", "随机猜测"),
    "time_per_step_ms": ("time per outer step (ms)", "dış adım başına süre (ms)", "每个外循环步的时间（毫秒）"),
    "saved_mib": (
        "memory kept for backward (MiB)",
        "geri yayılım için tutulan bellek (MiB)",
        "为反向传播保留的内存（MiB）",
    ),
    "taylor_error": ("error of the Taylor prediction", "Taylor tahmininin hatası", "泰勒展开预测的误差"),
    "avg_grad_only": ("AvgGrad term only", "yalnızca AvgGrad terimi", "仅含 AvgGrad 项"),
    "both_terms": ("AvgGrad + AvgGradInner terms", "AvgGrad + AvgGradInner terimleri", "AvgGrad 项 + AvgGradInner 项"),
    "slope": ("slope {s}", "eğim {s}", "斜率 {s}"),
    "cosine": ("cosine similarity", "kosinüs benzerliği", "余弦相似度"),
    "task_optimum": ("task optima θ*", "görev optimumları θ*", "各任务的最优点 θ*"),
    "theta_path": ("θ during meta-training", "meta-eğitim boyunca θ", "元训练过程中的 θ"),
    "theta_tilde_k": (
        "θ̃ after k = {k} steps",
        "k = {k} adımdan sonra θ̃",
        "k = {k} 步后的 θ̃",
    ),
    "joint_point": ("joint-training θ", "ortak eğitimle bulunan θ", "联合训练得到的 θ"),
    "param_1": ("parameter 1", "parametre 1", "参数 1"),
    "param_2": ("parameter 2", "parametre 2", "参数 2"),
    "adapted_loss": (
        "support loss after k steps",
        "k adımdan sonra destek kümesindeki kayıp",
        "适应 k 步后的支持集损失",
    ),
    "held_out_mse": (
        "held-out MSE after {k} steps",
        "görülmemiş görevlerde {k} adımdan sonra ortalama kare hata",
        "留出任务上适应 {k} 步后的均方误差",
    ),
    "ms_per_step": ("time per outer step (ms)", "dış adım başına süre (ms)", "每个外循环步的时间（毫秒）"),
    "meta_batch_size": ("meta-batch size n", "meta-yığın büyüklüğü n", "元批次大小 n"),
    "support_short": ("support", "destek", "支持集"),
    "query_short": ("query", "sorgu", "查询集"),
    "per_second": ("tasks per second", "saniyede işlenen görev", "每秒任务数"),
    # robust evaluation (reptile_edu.evaluation)
    "median_of": ("{name}, median over tasks", "{name}, görevlerin medyanı", "{name}（各任务的中位数）"),
    "paper_fig3": (
        "{name}, MAML paper (Fig. 3, read off)",
        "{name}, MAML makalesi (Şekil 3'ten okunan)",
        "{name}，MAML 论文（从图 3 读出）",
    ),
    "diverged_of": (
        "{name}: {diverged} of {tasks} tasks diverged",
        "{name}: {tasks} görevden {diverged} tanesi ıraksadı",
        "{name}：{tasks} 个任务中 {diverged} 个发散",
    ),
    # lesson 09 (tuning), the dynamics and landscape tools, the playgrounds' comparison controls
    "method": ("method", "yöntem", "方法"),
    "anneal": ("anneal the outer step size to 0 over each run", "dış adım büyüklüğünü her çalıştırmada 0'a indir", "每次运行中将外循环步长退火到 0"),
    "meta_lr": ("β Adam learning rate (MAML, FOMAML)", "β Adam öğrenme oranı (MAML, FOMAML)", "β Adam 学习率（MAML、FOMAML）"),
    "eval_at_train_eta": ("evaluate with the training η", "eğitimdeki η ile değerlendir", "用训练时的 η 评估"),
    "clear": ("Clear old curves", "Eski eğrileri sil", "清除旧曲线"),
    "diverged_maml": (
        "Training diverged at outer step {step}: the loss or the parameters became {value}. "
        "Lower η (now {eta:g}) or β (now {meta_lr:g}) and press Run again. "
        "θ is back where it was before this run.",
        "Eğitim {step}. dış adımda ıraksadı: kayıp ya da parametreler {value} oldu. "
        "η'yı (şu an {eta:g}) ya da β'yı (şu an {meta_lr:g}) küçültüp yeniden Çalıştır'a basın. "
        "θ, bu çalıştırmadan önceki hâline döndürüldü.",
        "训练在外循环第 {step} 步发散：损失或参数变成了 {value}。"
        "请减小 η（当前为 {eta:g}）或 β（当前为 {meta_lr:g}），然后再次点击“运行”。θ 已恢复到这次运行之前的状态。",
    ),
    "eval_eta": ("evaluated with η = {eta:g}", "η = {eta:g} ile değerlendirildi", "以 η = {eta:g} 评估"),
    "query_loss_after_k": (
        "query loss after k steps",
        "k adımdan sonra sorgu kümesindeki kayıp",
        "适应 k 步后的查询集损失",
    ),
    "k_shot": ("{shots}-shot", "{shots} örnekli", "{shots} 样本"),
    "tested_at_k": (
        "Tested the same θ at {ways}-way {shots}-shot, without training: accuracy {accuracy:.1f} ± {half:.1f} %",
        "Aynı θ, eğitim yapılmadan {ways} sınıflı, sınıf başına {shots} örnekli görevlerde sınandı: "
        "doğruluk %{accuracy:.1f} ± {half:.1f}",
        "未再训练，用同一个 θ 在 {ways} 类 {shots} 样本任务上测试：准确率 {accuracy:.1f}% ± {half:.1f}%",
    ),
    "accuracy_error_bars": (
        "accuracy (%, 95 % interval over held-out tasks)",
        "doğruluk (%, görülmemiş görevler üzerinden %95 aralığı)",
        "准确率（%，留出任务上的 95% 区间）",
    ),
    "schedule_constant": ("constant", "sabit", "恒定"),
    "schedule_linear": ("linear", "doğrusal", "线性"),
    "schedule_cosine": ("cosine", "kosinüs", "余弦"),
    "epsilon_s": ("meta step size ε_s", "meta adım büyüklüğü ε_s", "元步长 ε_s"),
    "outer_sgd": ("θ + ε(θ̃ − θ) (plain update)", "θ + ε(θ̃ − θ) (düz güncelleme)", "θ + ε(θ̃ − θ)（普通更新）"),
    "outer_adam": ("Adam on θ − θ̃", "θ − θ̃ üzerinde Adam", "对 θ − θ̃ 使用 Adam"),
    "minibatches_separate": ("separate minibatches", "ayrı mini-yığınlar", "不同的小批量"),
    "minibatches_same": ("the same minibatch", "aynı mini-yığın", "同一个小批量"),
    "full_batch": ("one full batch", "tek bir tam yığın", "一个完整批次"),
    "batch_size_b": ("inner minibatch size b", "iç mini-yığın büyüklüğü b", "内循环小批量大小 b"),
    "val_mse": (
        "validation MSE after {k} steps",
        "doğrulama görevlerinde {k} adımdan sonra ortalama kare hata",
        "验证任务上适应 {k} 步后的均方误差",
    ),
    "setting": ("setting", "ayar", "设置"),
    "predict_zero": ("always predicting 0", "hep 0 tahmin etmek", "始终预测 0"),
    "base_setting": ("base setting", "temel ayar", "基准设置"),
    "chosen_setting": ("chosen setting", "seçilen ayar", "选出的设置"),
    "within_task": ("minibatches of the same task", "aynı görevin mini-yığınları", "同一任务的小批量"),
    "across_tasks": ("minibatches of different tasks", "farklı görevlerin mini-yığınları", "不同任务的小批量"),
    "gradient_alignment": ("Alignment of minibatch gradients", "Mini-yığın gradyanlarının uyumu", "小批量梯度的一致性"),
    "inner_product": ("inner product ḡ_i · ḡ_j", "iç çarpım ḡ_i · ḡ_j", "内积 ḡ_i · ḡ_j"),
    "layer_n": ("layer {i}", "katman {i}", "第 {i} 层"),
    "layer_change": (
        "relative change of each layer in one outer step",
        "her katmanın bir dış adımdaki göreli değişimi",
        "每层在一个外循环步中的相对变化",
    ),
    "layer_adaptation": (
        "relative change of each layer in the inner loop, θ̃ − θ",
        "her katmanın iç döngüdeki göreli değişimi, θ̃ − θ",
        "每层在内循环中的相对变化 θ̃ − θ",
    ),
    "solution_sets": ("solution sets (valley floors)", "çözüm kümeleri (vadi tabanları)", "解集（谷底）"),
    "closest_point": (
        "closest point to all solution sets",
        "tüm çözüm kümelerine en yakın nokta",
        "离所有解集最近的点",
    ),
    "reptile_point": ("where Reptile stops (k = {k})", "Reptile'ın durduğu nokta (k = {k})", "Reptile 停下的点（k = {k}）"),
    "contours_joint": (
        "Contours of the average loss mean L_t(θ)",
        "Ortalama kaybın eş yükselti eğrileri, mean L_t(θ)",
        "平均损失 mean L_t(θ) 的等高线",
    ),
    "contours_after_k": (
        "Contours of the average loss after k = {k} steps",
        "k = {k} adımdan sonraki ortalama kaybın eş yükselti eğrileri",
        "适应 k = {k} 步后平均损失的等高线",
    ),
    "slice_alpha": ("α on the line θ + α(θ̃ − θ)", "θ + α(θ̃ − θ) doğrusu üzerinde α", "直线 θ + α(θ̃ − θ) 上的 α"),
    "task_n": ("task {t}", "görev {t}", "任务 {t}"),
    "time_per_run_s": ("training time (s)", "eğitim süresi (sn)", "训练时间（秒）"),
    "evaluation_summary": (
        "after {k} steps: mean {mean:.3g} · median {median:.3g} · 90 % of tasks at or below {q90:.3g} · "
        "worst task {task} ({worst:.3g}) · {diverged} of {tasks} tasks diverged",
        "{k} adımdan sonra: ortalama {mean:.3g} · medyan {median:.3g} · görevlerin %90'ı {q90:.3g} ya da altında · "
        "en kötü görev {task} ({worst:.3g}) · {tasks} görevden {diverged} tanesi ıraksadı",
        "适应 {k} 步后：平均值 {mean:.3g} · 中位数 {median:.3g} · 90% 的任务不高于 {q90:.3g} · "
        "最差任务 {task}（{worst:.3g}）· {tasks} 个任务中 {diverged} 个发散",
    ),
    # what print() shows of the package's objects (their repr stays English, for developers)
    "character_set": (
        "{source}: {classes} classes × {instances} instances, {alphabets} alphabets, {height} × {width} pixels",
        "{source}: {classes} sınıf × {instances} örnek, {alphabets} alfabe, {height} × {width} piksel",
        "{source}：{classes} 个类别 × 每类 {instances} 个样本，{alphabets} 个字母表，{height} × {width} 像素",
    ),
    "builtin_alphabets": (
        "built-in alphabets (seed {seed})",
        "yerleşik alfabeler (tohum {seed})",
        "内置字母表（随机种子 {seed}）",
    ),
    "characters": ("characters", "karakterler", "字符"),
    "episode_sampler": (
        "{ways}-way {shots}-shot episodes, {queries} queries per class, drawn from {classes} classes × "
        "{instances} instances{rotations}",
        "{ways} sınıflı, sınıf başına {shots} örnekli bölümler (her sınıftan {queries} sorgu örneğiyle), "
        "{classes} sınıf × {instances} örnekten çekiliyor{rotations}",
        "{ways} 类 {shots} 样本的情节，每类 {queries} 个查询样本，从 {classes} 个类别 × 每类 {instances} 个样本中抽取"
        "{rotations}",
    ),
    "rotations_as_classes": (
        " (rotations count as new classes)",
        " (döndürülmüş hâller ayrı sınıf sayılıyor)",
        "（旋转后的字符算作新类别）",
    ),
    "machine": (
        "{cpu}, {cores} CPU cores, torch {torch} with {threads} thread(s)",
        "{cpu}, {cores} CPU çekirdeği, torch {torch}, {threads} iş parçacığı",
        "{cpu}，{cores} 个 CPU 核心，torch {torch}，{threads} 个线程",
    ),
    "machine_cuda": ("{gpu} (CUDA); host: {host}", "{gpu} (CUDA); ana makine: {host}", "{gpu}（CUDA）；主机：{host}"),
    # drawing demo (reptile_edu.drawing_demo, drawing_networks)
    "demo_training": (
        "Training the demo's networks (once; then cached)",
        "Gösterimin ağları eğitiliyor (bir kez; sonra önbellekte)",
        "正在训练演示用的网络（仅此一次，之后从缓存读取）",
    ),
    "demo_title": ("Draw your own characters", "Kendi karakterlerinizi çizin", "画出你自己的字符"),
    "sine_demo_title": (
        "Reptile on sine waves (lesson 04)",
        "Sinüs dalgalarında Reptile (4. ders)",
        "正弦波上的 Reptile（第 04 课）",
    ),
    "demo_help": (
        "Draw one character on each class pad, then a new drawing of one of them on the query pad, and press "
        "Classify. Three networks of the same shape adapt to your drawings (and small shifts of them) with k steps "
        "of SGD at learning rate η, each from its own starting point θ, and show how likely each class is.",
        "Her sınıf alanına bir karakter, sorgu alanına da bunlardan birinin yeni bir çizimini yapın ve "
        "Sınıflandır'a basın. Aynı yapıdaki üç ağ, her biri kendi başlangıç noktası θ'dan yola çıkarak, "
        "çizimlerinize (ve onların biraz kaydırılmış kopyalarına) η öğrenme oranıyla k adım SGD ile uyum sağlar "
        "ve sorgunun hangi sınıfa ait olduğunu olasılıklarla gösterir.",
        "在每个类别画板上各画一个字符，再在查询画板上把其中一个重新画一遍，然后点击“分类”。三个结构相同的网络"
        "各自从自己的初始参数 θ 出发，用学习率 η 做 k 步 SGD，适应你的画（以及把它们稍微平移后的副本），"
        "然后给出查询图属于每个类别的概率。",
    ),
    "demo_ready": (
        "Draw on every pad, then press Classify. On held-out 3-way 1-shot characters these networks score: "
        "Reptile's θ {reptile:.0f} %, random θ {random:.0f} %, all-class pre-training {pretrained:.0f} %.",
        "Her alana çizin, sonra Sınıflandır'a basın. Eğitimde görülmemiş 3 sınıflı, sınıf başına 1 örnekli "
        "karakter görevlerinde bu ağların doğruluğu: Reptile'ın θ'sı %{reptile:.0f}, rastgele θ %{random:.0f}, "
        "tüm sınıflarla ön eğitim %{pretrained:.0f}.",
        "在每个画板上画好后点击“分类”。在留出的 3 类 1 样本字符任务上，这些网络的准确率为："
        "Reptile 的 θ {reptile:.0f}%，随机 θ {random:.0f}%，全类别预训练 {pretrained:.0f}%。",
    ),
    "query_name": ("query", "sorgu", "查询画板"),
    "list_separator": (", ", ", ", "、"),
    "query_pad": ("query: which class?", "sorgu: hangi sınıf?", "查询：属于哪一类？"),
    "clear_pad": ("Clear", "Temizle", "清除"),
    "classify": ("Classify", "Sınıflandır", "分类"),
    "classifying": (
        "Adapting the three networks to your drawings…",
        "Üç ağ çizimlerinize uyarlanıyor…",
        "正在让三个网络适应你的画……",
    ),
    "pad_empty": (
        "Nothing to classify yet: draw on {pads} first (an empty pad has no example to learn from).",
        "Henüz sınıflandırılacak bir şey yok: önce şu alanlara çizin: {pads} (boş bir alanda öğrenilecek örnek yoktur).",
        "还不能分类：请先在 {pads} 上画画（空白画板没有可学习的样本）。",
    ),
    "demo_says": (
        "{name} says: {c}, with probability {p:.0f} %.",
        "{name}: {c}, olasılığı %{p:.0f}.",
        "{name} 的判断：{c}，概率为 {p:.0f}%。",
    ),
    "demo_seen": (
        "What the networks see: your drawings as 28×28 images, like the built-in alphabets",
        "Ağların gördüğü: çizimleriniz, yerleşik alfabeler gibi 28×28 görüntüler olarak",
        "网络看到的内容：你的画被转换成与内置字母表相同格式的 28×28 图像",
    ),
    "percent": ("{p:.0f} %", "%{p:.0f}", "{p:.0f}%"),
    "demo_report_line": ("{name}: {bars} → {best}", "{name}: {bars} → {best}", "{name}：{bars} → {best}"),
    "pretrained_theta": ("all-class pre-training", "tüm sınıflarla ön eğitim", "全类别预训练"),
    # lesson 08: reinforcement learning
    "policy_loss": ("policy loss", "politika kaybı", "策略损失"),
    "value_loss": ("value (critic) loss", "değer (eleştirmen) kaybı", "价值（评论家）损失"),
    "total_loss": ("total loss", "toplam kayıp", "总损失"),
    "agent_losses": ("The agent's losses", "Ajanın kayıpları", "智能体的损失"),
    "mean_return": ("mean return", "ortalama getiri", "平均回报"),
    "mean_return_at_theta": (
        "Mean return of the episodes at θ",
        "θ ile toplanan bölümlerin ortalama getirisi",
        "用 θ 收集的情节的平均回报",
    ),
    "held_out_return": (
        "held-out goals, return after {u} update(s)",
        "görülmemiş hedefler, {u} güncellemeden sonra getiri",
        "留出目标上 {u} 次更新后的回报",
    ),
    "adaptation_updates": ("adaptation updates", "uyarlama güncellemesi sayısı", "适应更新次数"),
    "reptile_theta": ("Reptile's θ", "Reptile'ın θ'sı", "Reptile 的 θ"),
    "joint_policy": ("joint training", "ortak eğitim", "联合训练"),
    "random_theta": ("random θ", "rastgele θ", "随机 θ"),
    "goal": ("goal", "hedef", "目标"),
    "start": ("start", "başlangıç", "起点"),
    "before_updates": ("θ, before adaptation", "θ, uyarlamadan önce", "θ（适应前）"),
    "after_updates": ("after {u} adaptation update(s)", "{u} uyarlama güncellemesinden sonra", "{u} 次适应更新后"),
    "done_rl": (
        "Done: {step} outer steps in {seconds:.1f} s. Held-out goals, return after one update: {ret:.1f}",
        "Bitti: {step} dış adım {seconds:.1f} saniyede tamamlandı. "
        "Görülmemiş hedeflerde bir güncellemeden sonra ortalama getiri: {ret:.1f}",
        "完成：用时 {seconds:.1f} 秒，共 {step} 个外循环步。留出目标上一次更新后的平均回报：{ret:.1f}",
    ),
    # python -m reptile_edu.train (reptile_edu/train.py): what the command prints
    "train_start": (
        "Reptile on {what}, model {model}: k = {k}, η = {eta:g}, ε = {epsilon:g}{annealed}, n = {n}; "
        "{steps} outer steps, {where} on {device}",
        "Reptile, {what}, model {model}: k = {k}, η = {eta:g}, ε = {epsilon:g}{annealed}, n = {n}; "
        "{steps} dış adım, {where}, {device} üzerinde",
        "Reptile，{what}，模型 {model}：k = {k}，η = {eta:g}，ε = {epsilon:g}{annealed}，n = {n}；"
        "{steps} 个外循环步，{where}，设备 {device}",
    ),
    "train_sine_tasks": ("sine tasks ({preset}, K = {shots})", "sinüs görevleri ({preset}, K = {shots})", "正弦任务（{preset}，K = {shots}）"),
    "train_characters": (
        "{ways}-way {shots}-shot characters",
        "karakterler ({ways} sınıflı, sınıf başına {shots} örnekli)",
        "字符（{ways} 类 {shots} 样本）",
    ),
    "train_processes": ("{n} processes ({backend})", "{n} süreç ({backend})", "{n} 个进程（{backend}）"),
    "train_one_process": ("1 process", "1 süreç", "1 个进程"),
    "train_files": (
        "checkpoint: {checkpoint}, every {every} steps; metrics: {metrics}",
        "kontrol noktası: {checkpoint}, her {every} adımda bir; ölçümler: {metrics}",
        "检查点：{checkpoint}，每 {every} 步一次；指标：{metrics}",
    ),
    "train_resuming": (
        "resuming at outer step {step} of {steps}",
        "{steps} dış adımın {step}. adımından devam ediliyor",
        "从第 {step} 个外循环步继续（共 {steps} 步）",
    ),
    "train_tensorboard": (
        "TensorBoard logs: tensorboard --logdir {folder}",
        "TensorBoard kayıtları: tensorboard --logdir {folder}",
        "TensorBoard 日志：tensorboard --logdir {folder}",
    ),
    "train_no_tensorboard": (
        "TensorBoard logs: skipped (pip install tensorboard to get them)",
        "TensorBoard kayıtları: yazılmadı (yazılması için: pip install tensorboard)",
        "TensorBoard 日志：未写入（如需要，请先 pip install tensorboard）",
    ),
    "train_stopped": (
        "stopped after outer step {step}; checkpoint saved. Run the same command again to resume.",
        "{step}. dış adımdan sonra durduruldu; kontrol noktası kaydedildi. Devam etmek için aynı komutu yeniden çalıştırın.",
        "已在第 {step} 个外循环步后停止，检查点已保存。再次运行同一条命令即可继续。",
    ),
    "train_nothing_to_do": (
        "nothing to do: the checkpoint is at outer step {step} of {steps}.",
        "yapılacak bir şey yok: kontrol noktası zaten {steps} dış adımın {step}. adımında.",
        "无需继续：检查点已在第 {step} 个外循环步（共 {steps} 步）。",
    ),
    "train_done": (
        "done: {step} outer steps ({rate:.1f} per second in this run); θ is in {checkpoint}",
        "bitti: {step} dış adım (bu çalışmada saniyede {rate:.1f}); θ şurada: {checkpoint}",
        "完成：共 {step} 个外循环步（本次运行每秒 {rate:.1f} 步）；θ 保存在 {checkpoint}",
    ),
    "train_held_out": ("held-out tasks: {values}", "eğitimde görülmemiş görevler: {values}", "留出任务：{values}"),
}


def set_language(lang: str | None = None, notebook_dir: str | os.PathLike[str] | None = None) -> str:
    """Choose the language of widgets and plots and return it (``"en"``, ``"tr"`` or ``"zh"``).

    Order: ``lang`` if given; else the language the running notebook records in its metadata
    (``metadata.reptile_edu.language``, found through the kernel's session, see
    ``reptile_edu.notebook_file``); else the name of the notebook's folder (the current directory,
    or ``notebook_dir``) if it is a language; else ``$REPTILE_EDU_LANG``; else English.
    """
    if lang is None and notebook_dir is None:
        lang = notebook_language()
    if lang is None:
        folder = Path(notebook_dir) if notebook_dir is not None else Path.cwd()
        lang = folder.name if folder.name in LANGUAGES else None
    if lang is None:
        lang = os.environ.get(LANG_ENV) or "en"
    _state["lang"] = check_choice("lang", lang, LANGUAGES)
    import matplotlib

    matplotlib.rcParams.update(plot_rc() or {"font.family": ["sans-serif"]})
    return _state["lang"]


def get_language() -> str:
    """The language chosen by ``set_language`` (English until then)."""
    return _state["lang"]


def tr(key: str, lang: str | None = None, **fields: object) -> str:
    """The text for ``key`` in ``lang`` (default: the current language), with ``fields`` filled in."""
    lang = check_choice("lang", lang or _state["lang"], LANGUAGES)
    if key not in STRINGS:
        raise KeyError(f"no text for {key!r}; known keys: {', '.join(sorted(STRINGS))}")
    return STRINGS[key][LANGUAGES.index(lang)].format(**fields)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed CJK font that matplotlib can use, or ``None``.

    matplotlib lists the system's fonts once and keeps that list in a cache file, so a font installed
    afterwards stays unknown to it. When its list has no CJK font, this looks at the system's fonts
    once more and adds the new ones (``add_new_system_fonts``): installing a font and restarting the
    kernel is enough.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    found = _first_cjk_font(manager)
    if found is None and add_new_system_fonts(manager):
        found = _first_cjk_font(manager)
    return found


def _first_cjk_font(manager) -> str | None:
    installed = {f.name for f in manager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def add_new_system_fonts(manager=None) -> int:
    """Add to matplotlib's font list (default: ``fontManager``) the system fonts it does not list yet,
    e.g. one installed after matplotlib cached its list; return how many files were added."""
    from matplotlib import font_manager

    manager = manager if manager is not None else font_manager.fontManager
    known = {f.fname for f in manager.ttflist}
    added = 0
    for path in font_manager.findSystemFonts():
        if path in known:
            continue
        try:
            manager.addfont(path)
        except Exception:  # a file FreeType cannot read: matplotlib skips it too
            continue
        added += 1
    return added


def plot_language(lang: str | None = None) -> str:
    """The language plots use: the current one, except Chinese without a CJK font → English."""
    lang = lang or _state["lang"]
    if lang == "zh" and cjk_font() is None:
        if not _state.get("warned"):
            warnings.warn(message("no_cjk_font"), stacklevel=2)
            _state["warned"] = True
        return "en"
    return lang


def plot_text(key: str, **fields: object) -> str:
    """``tr(key)`` in the plot language (see ``plot_language``)."""
    return tr(key, plot_language(), **fields)


def plot_rc() -> dict[str, object]:
    """matplotlib rc settings for the plot language: DejaVu Sans, then a CJK font, when Chinese is shown.

    ``font.family`` is a list, so matplotlib picks a font glyph by glyph: Latin letters, digits, Greek
    (θ̃ included) and the minus sign come from DejaVu Sans, exactly as in the English plots, and only
    what DejaVu Sans lacks, the Chinese characters, from the CJK font. (With the CJK font first, some
    CJK fonts drew the minus of a log axis' 10⁻¹ as a box.)
    """
    if plot_language() == "zh":
        _quiet_font_weight_warnings()
        return {"font.family": ["DejaVu Sans", cjk_font()]}
    return {}


def _not_a_font_weight_note(record: logging.LogRecord) -> bool:
    """Drops matplotlib's "findfont: Failed to find font weight normal for …" notes: a CJK font that
    comes only in one weight (WenQuanYi Zen Hei is 500) is used as it is, and the note is noise."""
    return "Failed to find font weight" not in str(record.msg)


def _quiet_font_weight_warnings() -> None:
    logger = logging.getLogger("matplotlib.font_manager")
    if _not_a_font_weight_note not in logger.filters:
        logger.addFilter(_not_a_font_weight_note)


# ------------------------------------------------------------------------------- names and tables

#: Methods whose names are translated (key in STRINGS); Reptile, MAML, FOMAML are names and stay.
METHOD_KEYS = {
    "Joint training": "joint",
    "Random start": "scratch",
    "Reptile (non-transductive)": "reptile_nt",
    "All-class pre-training + fine-tuning": "pretrain",
    "Prototypical Networks": "protonet",
    "Prototypical Networks (non-transductive)": "protonet_nt",
    "Nearest neighbour (pixels)": "nearest",
}


def method_name(name: str, lang: str | None = None) -> str:
    """A method's name as a learner reads it in ``lang`` (default: the current language).

    Lessons key their results by method (``"Reptile"``, ``"Joint training"``, ``"Random start"``);
    tables print ``method_name(name)`` and plots show ``plots.method_label(name)``, the same name.
    """
    return tr(METHOD_KEYS[name], lang) if name in METHOD_KEYS else name


def display_width(text: str) -> int:
    """How many columns ``text`` takes in a terminal or a notebook's output: a CJK (East Asian wide
    or full-width) character takes two, a combining mark (the tilde of θ̃) none, the rest one."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text
    )


def pad(text: object, width: int, align: str = "<") -> str:
    """``text`` padded with spaces to ``width`` columns of display width, for tables that line up in
    every language: ``f"{pad(name, 15, '>')}"`` where ``f"{name:>15}"`` would count 联合训练 as 4 columns
    though it takes 8. ``align`` is ``"<"`` (left), ``">"`` (right) or ``"^"`` (centre), as in a format spec.
    Longer text is returned whole."""
    text = str(text)
    check_choice("align", align, ("<", ">", "^"))
    gap = max(0, width - display_width(text))
    left = {"<": 0, ">": gap, "^": gap // 2}[align]
    return " " * left + text + " " * (gap - left)
