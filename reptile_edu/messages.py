"""The package's messages to a learner (errors and warnings) in English, Turkish and Chinese.

Every message a learner may read when something goes wrong (an argument out of range, a run that
diverges, a missing or corrupt dataset, a missing CJK font) lives in ``MESSAGES``, one tuple
(English, Türkçe, 中文) per key, and is written in the language chosen by ``set_language()``.
The exception types do not change with the language: ``k=0`` raises ``ValueError`` in all three.
``tests/test_messages.py`` checks that every text exists in the three languages with the same
placeholders. Terms follow ``docs/glossary.md``.
"""

from __future__ import annotations

import re
import string

# key → (English, Türkçe, 中文). Placeholders are the same in the three texts.
MESSAGES: dict[str, tuple[str, str, str]] = {
    # Argument checks (reptile_edu._checks)
    "int_type": (
        "{name} must be an integer, got {value!r} ({type}).",
        "{name} bir tam sayı olmalı; {value!r} ({type}) verildi.",
        "{name} 必须是整数，但传入的是 {value!r}（{type}）。",
    ),
    "int_at_least": (
        "{name} must be an integer ≥ {low}; got {value}.",
        "{name}, {low} ya da daha büyük bir tam sayı olmalı (≥ {low}); {value} verildi.",
        "{name} 必须是 ≥ {low} 的整数，但传入的是 {value}。",
    ),
    "int_between": (
        "{name} must be an integer between {low} and {high}; got {value}.",
        "{name}, {low} ile {high} arasında bir tam sayı olmalı; {value} verildi.",
        "{name} 必须是介于 {low} 和 {high} 之间的整数，但传入的是 {value}。",
    ),
    "number_type": (
        "{name} must be a number, got {value!r} ({type}).",
        "{name} bir sayı olmalı; {value!r} ({type}) verildi.",
        "{name} 必须是数字，但传入的是 {value!r}（{type}）。",
    ),
    "positive": (
        "{name} must be a finite number > 0; got {value!r}.",
        "{name} sonlu ve 0'dan büyük bir sayı olmalı (> 0); {value!r} verildi.",
        "{name} 必须是大于 0 的有限数（> 0），但传入的是 {value!r}。",
    ),
    "positive_at_most": (
        "{name} must be a finite number > 0 and ≤ {high:g}; got {value!r}.",
        "{name} sonlu, 0'dan büyük ve en fazla {high:g} olan bir sayı olmalı (> 0 ve ≤ {high:g}); {value!r} verildi.",
        "{name} 必须是大于 0 且不超过 {high:g} 的有限数（> 0 且 ≤ {high:g}），但传入的是 {value!r}。",
    ),
    "epsilon_overshoots": (
        "{name}={eps:g} > 1: the outer step overshoots past the adapted parameters θ̃. Reptile normally uses 0 < ε ≤ 1.",
        "{name}={eps:g} > 1: dış adım, uyarlanmış parametreleri (θ̃) aşıp öteye geçer. Reptile genellikle 0 < ε ≤ 1 kullanır.",
        "{name}={eps:g} > 1：外循环步会越过适应后的参数 θ̃。Reptile 通常取 0 < ε ≤ 1。",
    ),
    "one_of": (
        "{name} must be one of {choices}; got {value!r}.",
        "{name} şunlardan biri olmalı: {choices}; {value!r} verildi.",
        "{name} 必须是 {choices} 之一，但传入的是 {value!r}。",
    ),
    "cannot_choose": (
        "{name} cannot be chosen: {reason}.",
        "{name} seçilemez: {reason}.",
        "无法选择 {name}：{reason}。",
    ),
    "with_reason": ("{error} ({reason}).", "{error} ({reason}).", "{error}（{reason}）。"),
    "non_negative": (
        "{name} must be a finite number ≥ 0; got {value!r}.",
        "{name} sonlu ve 0 ya da daha büyük bir sayı olmalı (≥ 0); {value!r} verildi.",
        "{name} 必须是 ≥ 0 的有限数，但传入的是 {value!r}。",
    ),
    "between_0_and_1": (
        "{name} must be a number between 0 and 1; got {value!r}.",
        "{name}, 0 ile 1 arasında bir sayı olmalı; {value!r} verildi.",
        "{name} 必须是介于 0 和 1 之间的数，但传入的是 {value!r}。",
    ),
    "divides_points": (
        "{name} must divide the number of points per task ({points}); got {value}.",
        "{name}, görev başına nokta sayısını ({points}) tam bölmeli; {value} verildi.",
        "{name} 必须能整除每个任务的点数（{points}），但传入的是 {value}。",
    ),
    "divides_support": (
        "{name} must divide the number of support points ({support}); got {value}.",
        "{name}, destek noktası sayısını ({support}) tam bölmeli; {value} verildi.",
        "{name} 必须能整除支持集的点数（{support}），但传入的是 {value}。",
    ),
    "divides_episodes": (
        "{name} must divide the number of episodes per task ({episodes}); got {value}.",
        "{name}, görev başına bölüm sayısını ({episodes}) tam bölmeli; {value} verildi.",
        "{name} 必须能整除每个任务的情节数（{episodes}），但传入的是 {value}。",
    ),
    "two_minibatches": (
        "pairs of different minibatches need at least 2 minibatches per task (batch_size at most half the "
        "points); got {m}.",
        "farklı mini-yığın çiftleri için her görevde en az 2 mini-yığın gerekir (batch_size en fazla nokta "
        "sayısının yarısı olmalı); {m} verildi.",
        "要组成不同小批量的配对，每个任务至少需要 2 个小批量（batch_size 最多为点数的一半），但现在只有 {m} 个。",
    ),
    "two_tasks": (
        "comparing different tasks needs at least 2 probe tasks; got {n}.",
        "farklı görevleri karşılaştırmak için en az 2 deneme görevi gerekir; {n} verildi.",
        "比较不同任务至少需要 2 个探测任务，但传入的是 {n} 个。",
    ),
    "anneal_and_schedule": (
        "anneal=True asks for the linear schedule, but epsilon is already a schedule ({schedule!r}); pass one "
        "or the other.",
        "anneal=True doğrusal takvimi ister, ama epsilon zaten bir takvim ({schedule!r}); ikisinden yalnızca "
        "birini verin.",
        "anneal=True 表示使用线性调度，但 epsilon 已经是一个调度（{schedule!r}）；两者只能给一个。",
    ),
    "at_least_two_characters": (
        "characters must have at least 2 classes and 2 instances per class; got {classes} × {instances}.",
        "characters en az 2 sınıf ve sınıf başına en az 2 örnek içermeli; {classes} × {instances} verildi.",
        "characters 至少要有 2 个类别、每类至少 2 个样本，但传入的是 {classes} × {instances}。",
    ),
    "no_advantages": (
        "the buffer has no advantages yet: call buffer.compute_advantages() first.",
        "tamponda henüz avantaj yok: önce buffer.compute_advantages() çağırın.",
        "缓冲区中还没有优势值：请先调用 buffer.compute_advantages()。",
    ),
    # Episode sampler: why ways, queries and shots are bounded
    "reason_classes": ("there are {total} classes", "toplam {total} sınıf var", "共有 {total} 个类别"),
    "reason_classes_rotated": (
        "there are {total} classes with rotations",
        "döndürülmüş hâlleriyle birlikte toplam {total} sınıf var",
        "算上旋转共有 {total} 个类别",
    ),
    "reason_queries": (
        "each class has {instances} instances and shots need at least 1",
        "her sınıfta {instances} örnek var ve destek kümesine en az 1 örnek kalmalı",
        "每个类别有 {instances} 个样本，且支持集至少要留 1 个",
    ),
    "reason_shots": (
        "each class has {instances} instances, and shots + queries ({queries}) must fit in them",
        "her sınıfta {instances} örnek var; shots ile queries ({queries}) toplamı bunu aşamaz",
        "每个类别有 {instances} 个样本，shots 与 queries（{queries}）之和不能超过这个数",
    ),
    # Divergence (reptile_edu.methods.DivergenceError)
    "diverged_outer": (
        "{method} diverged at outer step {step}: the loss or the parameters became {what}. "
        "Lower {hint} and run again. The model keeps its parameters from before step {step}.",
        "{method} {step}. dış adımda ıraksadı: kayıp ya da parametreler {what} oldu. "
        "Yeniden çalıştırmadan önce {hint} küçültün. Model, {step}. adımdan önceki parametrelerini koruyor.",
        "{method}：在外循环第 {step} 步发散，损失或参数变成了 {what}。请调小{hint}，然后重新运行。"
        "模型保留了第 {step} 步之前的参数。",
    ),
    "diverged_inner": (
        "{method} diverged at inner step {step}: the loss or the parameters became {what}. Lower {hint} and run again.",
        "{method} {step}. iç adımda ıraksadı: kayıp ya da parametreler {what} oldu. "
        "Yeniden çalıştırmadan önce {hint} küçültün.",
        "{method}：在内循环第 {step} 步发散，损失或参数变成了 {what}。请调小{hint}，然后重新运行。",
    ),
    "diverged_update": (
        "{method} diverged at adaptation update {step}: the loss or the parameters became {what}. Lower {hint} and run again.",
        "{method} {step}. uyarlama güncellemesinde ıraksadı: kayıp ya da parametreler {what} oldu. "
        "Yeniden çalıştırmadan önce {hint} küçültün.",
        "{method}：在第 {step} 次适应更新时发散，损失或参数变成了 {what}。请调小{hint}，然后重新运行。",
    ),
    "nan": ("NaN", "NaN", "NaN"),
    "infinite": ("infinite", "sonsuz", "无穷大"),
    "hint_reptile": (
        "the inner learning rate η (eta={eta:g}) or the meta step size ε (epsilon={epsilon:g})",
        "iç öğrenme oranını η (eta={eta:g}) ya da meta adım büyüklüğünü ε (epsilon={epsilon:g})",
        "内循环学习率 η（eta={eta:g}）或元步长 ε（epsilon={epsilon:g}）",
    ),
    "hint_maml": (
        "the inner learning rate η (eta={eta:g}) or the outer learning rate (meta_lr={meta_lr:g})",
        "iç öğrenme oranını η (eta={eta:g}) ya da dış öğrenme oranını (meta_lr={meta_lr:g})",
        "内循环学习率 η（eta={eta:g}）或外循环学习率（meta_lr={meta_lr:g}）",
    ),
    "hint_eta": (
        "the inner learning rate η (eta={eta:g})",
        "iç öğrenme oranını η (eta={eta:g})",
        "内循环学习率 η（eta={eta:g}）",
    ),
    "hint_lr": ("the learning rate (lr={lr:g})", "öğrenme oranını (lr={lr:g})", "学习率（lr={lr:g}）"),
    "method_joint": ("Joint training", "Ortak eğitim", "联合训练"),
    "method_adaptation": ("Adaptation", "Uyarlama", "适应"),
    # Held-out tasks that diverged (reptile_edu.evaluation), a model given the wrong data (reptile_edu.models)
    "tasks_diverged": (
        "{diverged} of {tasks} held-out tasks diverged while adapting (their query loss became NaN or infinite, "
        "or grew above {factor:g} × its value before adaptation). The worst is task {task}: query loss {worst:.3g} "
        "after {k} steps. The mean is {mean:.3g}, the median {median:.3g}.",
        "Eğitimde görülmemiş {tasks} görevden {diverged} tanesi uyarlama sırasında ıraksadı (sorgu kaybı NaN ya "
        "da sonsuz oldu veya uyarlamadan önceki değerinin {factor:g} katını aştı). En kötüsü {task} numaralı görev: "
        "{k} adımdan sonra sorgu kaybı {worst:.3g}. Ortalama {mean:.3g}, medyan {median:.3g}.",
        "{tasks} 个留出任务中有 {diverged} 个在适应过程中发散（查询集损失变成 NaN 或无穷大，或超过适应前的 "
        "{factor:g} 倍）。最差的是第 {task} 号任务：适应 {k} 步后查询集损失为 {worst:.3g}。"
        "平均值为 {mean:.3g}，中位数为 {median:.3g}。",
    ),
    "tasks_left_out": (
        "Tasks whose loss is NaN or infinite ({n}) are left out of the mean.",
        "Kaybı NaN ya da sonsuz olan görevler ({n} tane) ortalamaya katılmadı.",
        "损失为 NaN 或无穷大的任务（{n} 个）未计入平均值。",
    ),
    "tasks_diverged_hint": (
        "Evaluation.diverged_tasks lists them; a smaller η (now {eta:g}) or fewer steps keeps them stable.",
        "Evaluation.diverged_tasks bu görevleri listeler; daha küçük bir η (şu an {eta:g}) ya da daha az adım "
        "onları kararlı tutar.",
        "Evaluation.diverged_tasks 列出了这些任务；减小 η（当前为 {eta:g}）或减少步数可以让它们保持稳定。",
    ),
    "input_shape_mismatch": (
        "{model} takes inputs of shape {expected}, but the tasks give x of shape {got}. Use a model built "
        "for this data: MLP() for sine points [T, N, 1], ConvNet(ways=N) for character images [T, N, 1, 28, 28].",
        "{model} {expected} biçiminde girdi alır, ama görevlerin verdiği x'in biçimi {got}. Bu veriye uygun "
        "bir model kullanın: sinüs noktaları [T, N, 1] için MLP(), karakter görüntüleri [T, N, 1, 28, 28] "
        "için ConvNet(ways=N).",
        "{model} 的输入形状应为 {expected}，但任务给出的 x 形状为 {got}。请使用与这些数据相符的模型："
        "正弦任务的点 [T, N, 1] 用 MLP()，字符图像 [T, N, 1, 28, 28] 用 ConvNet(ways=N)。",
    ),
    # Devices and settings (reptile_edu.runtime)
    "device_unknown": (
        "device must be 'cpu', 'cuda' or 'cuda:N'; got {value!r}.",
        "device 'cpu', 'cuda' ya da 'cuda:N' olmalı; {value!r} verildi.",
        "device 必须是 'cpu'、'cuda' 或 'cuda:N'，但传入的是 {value!r}。",
    ),
    "no_cuda": (
        "device={value!r} was asked for, but this machine has no CUDA GPU; use 'cpu'.",
        "device={value!r} istendi, ama bu makinede CUDA destekli bir GPU yok; 'cpu' kullanın.",
        "请求了 device={value!r}，但这台机器没有 CUDA GPU；请使用 'cpu'。",
    ),
    "cuda_index": (
        "device={value!r}: only {count} CUDA device(s) here (cuda:0 … cuda:{last}).",
        "device={value!r}: burada yalnızca {count} CUDA aygıtı var (cuda:0 … cuda:{last}).",
        "device={value!r}：这里只有 {count} 个 CUDA 设备（cuda:0 … cuda:{last}）。",
    ),
    "env_one_of": (
        "environment variable {env} must be one of {choices}; got {value!r}.",
        "{env} ortam değişkeni şunlardan biri olmalı: {choices}; {value!r} verildi.",
        "环境变量 {env} 必须是 {choices} 之一，但传入的是 {value!r}。",
    ),
    # The built-in alphabets' cache (reptile_edu.alphabets, reptile_edu.cache)
    "cache_corrupt": (
        "The cached built-in alphabets are corrupt ({error}); rebuilding them.",
        "Önbellekteki yerleşik alfabeler bozuk ({error}); yeniden oluşturuluyorlar.",
        "缓存中的内置字母表已损坏（{error}），正在重新生成。",
    ),
    "cache_unwritable": (
        "Could not write the cache in {folder} ({error}); using the set from memory.",
        "Önbellek {folder} klasörüne yazılamadı ({error}); bellekteki veri kümesi kullanılıyor.",
        "无法在 {folder} 中写入缓存（{error}），改用内存中的数据集。",
    ),
    "cache_in_packages": (
        "the cache directory {path} lies inside {packages}, where installed packages live; "
        "set {env} to a directory of your own, e.g. ~/.cache/reptile-edu.",
        "önbellek klasörü {path}, kurulu paketlerin bulunduğu {packages} içinde; "
        "{env} değişkenine kendi klasörlerinizden birini verin, örneğin ~/.cache/reptile-edu.",
        "缓存目录 {path} 位于存放已安装软件包的 {packages} 之内；请把 {env} 设为你自己的目录，例如 ~/.cache/reptile-edu。",
    ),
    "cache_other_settings": (
        "{path}: made for other settings",
        "{path}: başka ayarlar için oluşturulmuş",
        "{path}：是为其他设置生成的",
    ),
    "checksum_mismatch": (
        "{path}: checksum does not match {meta}",
        "{path}: sağlama toplamı {meta} dosyasındakiyle uyuşmuyor",
        "{path}：校验和与 {meta} 中记录的不符",
    ),
    "shape_mismatch": (
        "{path}: shape {shape} is not the recorded {recorded}",
        "{path}: boyutu {shape}, kaydedilen {recorded} değil",
        "{path}：形状为 {shape}，与记录的 {recorded} 不符",
    ),
    # Dataset files (reptile_edu.omniglot and the cache)
    "file_missing": ("{path}: missing", "{path}: bulunamadı", "{path}：不存在"),
    "file_unreadable": ("{path}: unreadable ({error})", "{path}: okunamıyor ({error})", "{path}：无法读取（{error}）"),
    "not_an_image": (
        "{path}: not a readable image ({error}).",
        "{path}: okunabilir bir görüntü değil ({error}).",
        "{path}：不是可读取的图像（{error}）。",
    ),
    "zip_unreadable": (
        "{path}: not a readable zip file (corrupt or incomplete download?): {error}",
        "{path}: okunabilir bir zip dosyası değil (bozuk ya da yarım kalmış bir indirme mi?): {error}",
        "{path}：不是可读取的 zip 文件（下载损坏或不完整？）：{error}",
    ),
    "zip_bad_crc": (
        "{path}: the zip file is corrupt (bad CRC for {member}); download it again.",
        "{path}: zip dosyası bozuk ({member} için CRC hatalı); yeniden indirin.",
        "{path}：zip 文件已损坏（{member} 的 CRC 校验失败），请重新下载。",
    ),
    "omniglot_not_found": (
        "Omniglot not found: neither {folder}/ nor {folder}.zip exists. "
        "Pass download=True to fetch it, or point root at the folder that holds it.",
        "Omniglot bulunamadı: ne {folder}/ ne de {folder}.zip var. "
        "İndirmek için download=True verin ya da root'u onu içeren klasöre yönlendirin.",
        "找不到 Omniglot：{folder}/ 和 {folder}.zip 都不存在。请传入 download=True 下载，或让 root 指向存放它的目录。",
    ),
    "not_omniglot_layout": (
        "{path}: not in the Omniglot layout <Alphabet>/<characterNN>/<NNNN_DD>.png.",
        "{path}: Omniglot düzeninde değil (<Alphabet>/<characterNN>/<NNNN_DD>.png).",
        "{path}：不符合 Omniglot 的目录结构 <Alphabet>/<characterNN>/<NNNN_DD>.png。",
    ),
    "no_drawings": (
        "{path}: no drawings found; expected <Alphabet>/<characterNN>/<NNNN_DD>.png inside.",
        "{path}: hiç çizim bulunamadı; içinde <Alphabet>/<characterNN>/<NNNN_DD>.png dosyaları bekleniyordu.",
        "{path}：没有找到任何手写字符图像；其中应有 <Alphabet>/<characterNN>/<NNNN_DD>.png。",
    ),
    "drawing_count": (
        "{path}: {n} drawings, but the other characters have {usual}.",
        "{path}: {n} çizim var, ama diğer karakterlerin {usual} çizimi var.",
        "{path}：有 {n} 幅图，而其他字符都有 {usual} 幅。",
    ),
    "runs_not_found": (
        "Lake one-shot runs not found: {path} does not exist.",
        "Lake'in tek örnekli görev dizileri (one-shot runs) bulunamadı: {path} yok.",
        "找不到 Lake 的单样本测试集（one-shot runs）：{path} 不存在。",
    ),
    "no_runs": (
        "{path}: no runNN/ folders found (expected runNN/class_labels.txt, training/, test/).",
        "{path}: hiç runNN/ klasörü bulunamadı (runNN/class_labels.txt, training/, test/ bekleniyordu).",
        "{path}：没有找到 runNN/ 目录（应有 runNN/class_labels.txt、training/、test/）。",
    ),
    "run_class_count": (
        "{path}: {n} training classes, but {first} has {m}.",
        "{path}: {n} eğitim sınıfı var, ama {first} içinde {m} sınıf var.",
        "{path}：有 {n} 个训练类别，而 {first} 有 {m} 个。",
    ),
    "labels_missing": (
        "{path}: missing (every runNN/ needs its class_labels.txt).",
        "{path}: bulunamadı (her runNN/ klasörünün kendi class_labels.txt dosyası olmalı).",
        "{path}：不存在（每个 runNN/ 都需要自己的 class_labels.txt）。",
    ),
    "no_class_images": (
        "{path}: no classNN.png images.",
        "{path}: hiç classNN.png görüntüsü yok.",
        "{path}：没有 classNN.png 图像。",
    ),
    "labels_bad_line": (
        "{path}, line {number}: expected '{expected}'; got {line!r}.",
        "{path}, {number}. satır: '{expected}' bekleniyordu; {line!r} bulundu.",
        "{path} 第 {number} 行：应为 '{expected}'，实际为 {line!r}。",
    ),
    "labels_no_target": (
        "{path}, line {number}: {target} does not exist.",
        "{path}, {number}. satır: {target} yok.",
        "{path} 第 {number} 行：{target} 不存在。",
    ),
    "labels_empty": ("{path}: no lines.", "{path}: hiç satır yok.", "{path}：没有任何内容。"),
    "download_checksum": (
        "{url}: the download's checksum {got} does not match the expected {expected}; {target} was not written. "
        "Try again, or check base_url.",
        "{url}: indirilen dosyanın sağlama toplamı {got}, beklenen {expected} ile uyuşmuyor; {target} yazılmadı. "
        "Yeniden deneyin ya da base_url'yi denetleyin.",
        "{url}：下载文件的校验和 {got} 与预期的 {expected} 不符，未写入 {target}。请重试，或检查 base_url。",
    ),
    "download_failed": (
        "{url}: download failed ({error}); {target} was not written.",
        "{url}: indirme başarısız oldu ({error}); {target} yazılmadı.",
        "{url}：下载失败（{error}），未写入 {target}。",
    ),
    # Plots (reptile_edu.i18n)
    "no_cjk_font": (
        "No CJK font found for matplotlib, so plot text is in English (it would otherwise show as empty boxes). "
        "Install one, e.g. `sudo apt install fonts-noto-cjk`, then restart the kernel.",
        "matplotlib için bir CJK yazı tipi bulunamadı, bu yüzden grafik yazıları İngilizce (yoksa boş kutucuklar "
        "görünürdü). Bir tane kurun, örneğin `sudo apt install fonts-noto-cjk`, sonra çekirdeği yeniden başlatın.",
        "matplotlib 找不到中文（CJK）字体，因此图表文字改用英文（否则会显示为空白方框）。"
        "请安装一种中文字体，例如运行 `sudo apt install fonts-noto-cjk`，然后重启内核。",
    ),
    # python -m reptile_edu.train: its settings (reptile_edu.train_config), checkpoints, processes
    "train_bad_setting": ("error in {where}: {error}", "{where} içinde hata: {error}", "{where} 有误：{error}"),
    "train_stopped_at_once": (
        "stopped at once; the same command resumes from the last checkpoint.",
        "hemen durduruldu; aynı komut son kontrol noktasından devam eder.",
        "已立即停止；再次运行同一条命令会从最近的检查点继续。",
    ),
    "config_unknown_field": (
        "unknown field {name!r}; the fields are: {fields}.",
        "bilinmeyen alan {name!r}; alanlar şunlar: {fields}.",
        "未知字段 {name!r}；可用的字段有：{fields}。",
    ),
    "config_only_for": (
        "field {name!r} applies to family {only!r} only; this run is {family!r}.",
        "{name!r} alanı yalnızca {only!r} ailesi için geçerli; bu çalışma {family!r}.",
        "字段 {name!r} 只适用于任务族 {only!r}；本次运行是 {family!r}。",
    ),
    "config_bool": (
        "{name} must be true or false; got {value!r}.",
        "{name} true ya da false olmalı; {value!r} verildi.",
        "{name} 必须是 true 或 false，但传入的是 {value!r}。",
    ),
    "config_device": (
        "device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {value!r}.",
        "device 'auto', 'cpu', 'cuda' ya da 'cuda:N' olmalı; {value!r} verildi.",
        "device 必须是 'auto'、'cpu'、'cuda' 或 'cuda:N'，但传入的是 {value!r}。",
    ),
    "config_batch_divides": (
        "{name} must divide the number of support points per task ({support}); got {size}.",
        "{name}, görev başına destek noktası sayısını ({support}) tam bölmeli; {size} verildi.",
        "{name} 必须能整除每个任务的支持点数（{support}），但传入的是 {size}。",
    ),
    "config_folder": (
        "{name} must be a folder name (a non-empty string); got {value!r}.",
        "{name} bir klasör adı (boş olmayan bir metin) olmalı; {value!r} verildi.",
        "{name} 必须是文件夹名（非空字符串），但传入的是 {value!r}。",
    ),
    "config_file_suffix": (
        "config file {path} must end in .toml or .json.",
        "yapılandırma dosyası {path} .toml ya da .json ile bitmeli.",
        "配置文件 {path} 的扩展名必须是 .toml 或 .json。",
    ),
    "config_file_unreadable": (
        "cannot read config file {path}: {reason}.",
        "yapılandırma dosyası {path} okunamıyor: {reason}.",
        "无法读取配置文件 {path}：{reason}。",
    ),
    "config_file_invalid": (
        "config file {path} is not valid {kind}: {reason}.",
        "yapılandırma dosyası {path} geçerli bir {kind} değil: {reason}.",
        "配置文件 {path} 不是有效的 {kind}：{reason}。",
    ),
    "config_file_table": (
        "config file {path} must hold a table of field = value pairs.",
        "yapılandırma dosyası {path}, alan = değer çiftlerinden oluşan bir tablo içermeli.",
        "配置文件 {path} 必须是由“字段 = 值”组成的表。",
    ),
    "config_resume_differs": (
        "the checkpoint in {folder} was made with {was}; this run asks for {now}. Resume with the same "
        "settings, choose another checkpoint_dir, or start over with --restart.",
        "{folder} içindeki kontrol noktası {was} ile oluşturulmuş; bu çalışma {now} istiyor. Aynı ayarlarla "
        "devam edin, başka bir checkpoint_dir seçin ya da --restart ile baştan başlayın.",
        "{folder} 中的检查点是用 {was} 生成的；本次运行要求 {now}。请用相同的设置继续、换一个 checkpoint_dir，"
        "或用 --restart 从头开始。",
    ),
    "config_steps_behind": (
        "steps must be ≥ {step}: the checkpoint in {folder} is at that step.",
        "steps en az {step} olmalı: {folder} içindeki kontrol noktası o adımda.",
        "steps 必须 ≥ {step}：{folder} 中的检查点已经到了这一步。",
    ),
    "config_meta_batch_processes": (
        "{name} must be ≥ the number of processes ({processes}), so that every process adapts at least one "
        "task; got {n}.",
        "{name} en az süreç sayısı ({processes}) kadar olmalı ki her süreç en az bir görev uyarlasın; {n} verildi.",
        "{name} 必须 ≥ 进程数（{processes}），这样每个进程至少适应一个任务；但传入的是 {n}。",
    ),
    "checkpoint_damaged": (
        "the checkpoint {path} is damaged or not a reptile-edu checkpoint ({kind}). Delete it, or start over "
        "with --restart.",
        "{path} kontrol noktası bozuk ya da bir reptile-edu kontrol noktası değil ({kind}). Silin ya da "
        "--restart ile baştan başlayın.",
        "检查点 {path} 已损坏，或者不是 reptile-edu 的检查点（{kind}）。请删除它，或用 --restart 从头开始。",
    ),
    "checkpoint_missing": (
        "no checkpoint in {folder}: run python -m reptile_edu.train first.",
        "{folder} içinde kontrol noktası yok: önce python -m reptile_edu.train çalıştırın.",
        "{folder} 中没有检查点：请先运行 python -m reptile_edu.train。",
    ),
    "shard_too_few_tasks": (
        "n (tasks per meta-batch) = {n} is smaller than the number of processes ({processes}): every process "
        "needs at least one task.",
        "n (meta-yığındaki görev sayısı) = {n}, süreç sayısından ({processes}) küçük: her sürecin en az bir "
        "göreve ihtiyacı var.",
        "n（元批次中的任务数）= {n}，小于进程数（{processes}）：每个进程至少需要一个任务。",
    ),
    "torchrun_device_index": (
        "device={device!r}: under torchrun every process takes its own GPU (cuda:LOCAL_RANK); use device "
        "'cuda' or 'auto'.",
        "device={device!r}: torchrun altında her süreç kendi GPU'sunu alır (cuda:LOCAL_RANK); device olarak "
        "'cuda' ya da 'auto' kullanın.",
        "device={device!r}：在 torchrun 下每个进程使用自己的 GPU（cuda:LOCAL_RANK）；请把 device 设为 'cuda' 或 'auto'。",
    ),
    "torchrun_too_few_gpus": (
        "process {rank} wants GPU cuda:{local}, but this machine has {count}: start at most one process per "
        "GPU (torchrun --nproc-per-node).",
        "{rank}. süreç cuda:{local} GPU'sunu istiyor, ama bu makinede {count} GPU var: GPU başına en fazla bir "
        "süreç başlatın (torchrun --nproc-per-node).",
        "进程 {rank} 需要 GPU cuda:{local}，但这台机器只有 {count} 块 GPU：每块 GPU 最多启动一个进程"
        "（torchrun --nproc-per-node）。",
    ),
    # The drawing demo (reptile_edu.drawing, reptile_edu.drawing_networks)
    "drawing_empty": (
        "The drawing is empty: draw a character first.",
        "Çizim boş: önce bir karakter çizin.",
        "画板是空的：请先画一个字符。",
    ),
    "stroke_not_finite": (
        "strokes[{i}] has a point that is not a finite number; points are (x, y) in pixels of the pad.",
        "strokes[{i}] içinde sonlu bir sayı olmayan bir nokta var; noktalar, alanın pikselleri cinsinden (x, y) olmalı.",
        "strokes[{i}] 中有一个点不是有限数；点应当是以画板像素为单位的 (x, y)。",
    ),
    "no_ink": (
        "the character set has no ink in its images, so its drawing style cannot be measured.",
        "karakter kümesinin görüntülerinde hiç mürekkep yok, bu yüzden çizim biçimi ölçülemez.",
        "字符集的图像中没有任何笔迹，因此无法测量它的书写样式。",
    ),
    "drawing_shapes": (
        "support must be [T, N, 28, 28] and query [T, Q, 28, 28] with the same T; got {support} and {query}.",
        "support [T, N, 28, 28], query [T, Q, 28, 28] biçiminde ve aynı T ile verilmeli; {support} ve {query} verildi.",
        "support 的形状必须是 [T, N, 28, 28]，query 必须是 [T, Q, 28, 28]，且 T 相同；传入的是 {support} 和 {query}。",
    ),
    "demo_cache_corrupt": (
        "The cached demo networks are corrupt ({error}); training them again.",
        "Önbellekteki gösterim ağları bozuk ({error}); yeniden eğitiliyorlar.",
        "缓存中的演示网络已损坏（{error}），正在重新训练。",
    ),
    "demo_cache_unwritable": (
        "Could not write the cache in {folder} ({error}); using the networks from memory.",
        "Önbellek {folder} klasörüne yazılamadı ({error}); bellekteki ağlar kullanılıyor.",
        "无法在 {folder} 中写入缓存（{error}），改用内存中的网络。",
    ),
}

# Argument names that carry words (the Python name and symbol stay; the words are translated).
ARGUMENTS: dict[str, tuple[str, str, str]] = {
    "k (inner steps)": ("k (inner steps)", "k (iç adım sayısı)", "k（内循环步数）"),
    "η (eta)": ("η (eta)", "η (eta)", "η（eta）"),
    "ε (epsilon)": ("ε (epsilon)", "ε (epsilon)", "ε（epsilon）"),
    "n (meta_batch)": ("n (meta_batch)", "n (meta_batch)", "n（meta_batch）"),
    "eval_k (inner steps in evaluation)": (
        "eval_k (inner steps in evaluation)",
        "eval_k (değerlendirmedeki iç adım sayısı)",
        "eval_k（评估时的内循环步数）",
    ),
    "eval_eta (η in evaluation)": ("eval_eta (η in evaluation)", "eval_eta (değerlendirmedeki η)", "eval_eta（评估时的 η）"),
    "end (the final ε)": ("end (the final ε)", "end (son ε değeri)", "end（最终的 ε）"),
    "q (quantile)": ("q (quantile)", "q (yüzdelik)", "q（分位数）"),
    "λ (lam)": ("λ (lam)", "λ (lam)", "λ（lam）"),
    "γ (gamma)": ("γ (gamma)", "γ (gamma)", "γ（gamma）"),
    # the fields of python -m reptile_edu.train whose names carry words
    "eta (η)": ("eta (η)", "eta (η)", "eta（η）"),
    "epsilon (ε)": ("epsilon (ε)", "epsilon (ε)", "epsilon（ε）"),
    "meta_batch (n, tasks per meta-batch)": (
        "meta_batch (n, tasks per meta-batch)",
        "meta_batch (n, meta-yığındaki görev sayısı)",
        "meta_batch（n，元批次中的任务数）",
    ),
}

# Method names that are words (Reptile, MAML, FOMAML are names and stay).
METHODS = {"Joint training": "method_joint", "Adaptation": "method_adaptation"}

_LANGUAGES = ("en", "tr", "zh")
# Chinese typography: no space after full-width punctuation (after "k（内循环步数）") nor between two Chinese
# characters (a placeholder filled with Chinese, "变成了 {what}" → "变成了无穷大"); a space stays around Latin text.
_SPACE_AFTER_FULL_WIDTH = re.compile(r"(?<=[）。，：；！？」\u4e00-\u9fff])[ ]+(?=[\u4e00-\u9fff])|(?<=[）。，：；！？」])[ ]+")


def _index(lang: str | None) -> int:
    if lang is None:
        from .i18n import get_language  # here, not at the top: i18n itself uses the checks

        lang = get_language()
    return _LANGUAGES.index(lang) if lang in _LANGUAGES else 0


def message(key: str, lang: str | None = None, **fields: object) -> str:
    """The message ``key`` in ``lang`` (default: the language of ``set_language()``), fields filled in."""
    text = MESSAGES[key][_index(lang)].format(**fields)
    return _SPACE_AFTER_FULL_WIDTH.sub("", text) if _index(lang) == 2 else text


def argument(name: str, lang: str | None = None) -> str:
    """An argument's name as a message shows it: ``"k (inner steps)"`` → ``"k (iç adım sayısı)"`` in Turkish."""
    return ARGUMENTS[name][_index(lang)] if name in ARGUMENTS else name


def method_name(name: str, lang: str | None = None) -> str:
    """A training method's name in a message: ``"Joint training"`` → ``"Ortak eğitim"``; Reptile stays Reptile."""
    return message(METHODS[name], lang) if name in METHODS else name


def placeholders(text: str) -> list[tuple[str, str, str]]:
    """The distinct ``{field!conversion:spec}`` placeholders of ``text``, sorted (for the tests)."""
    return sorted({(f, c or "", s or "") for _, f, s, c in string.Formatter().parse(text) if f is not None})


def sentence_end(text: str) -> str:
    """``text`` without its final full stop (``.`` or ``。``), to add a reason after it."""
    return text.rstrip(".。")
