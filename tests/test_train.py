"""The meta-training command (python -m reptile_edu.train): resume equals uninterrupted, bad settings name
the field, the metrics log, the character family, and a real kill of the command."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import reptile_edu.train as train_module
from reptile_edu import DivergenceError, generate_alphabets
from reptile_edu.checkpoint import CheckpointError
from reptile_edu.i18n import set_language
from reptile_edu.train import build_parser, load_trained, main, train
from reptile_edu.train_config import ConfigError, make_config


def _config(folder: Path, **fields):
    settings = dict(family="sine", preset="maml", shots=10, k=3, eta=0.02, epsilon=0.3, meta_batch=4, steps=12, seed=5)
    settings.update(eval_every=6, eval_tasks=8, log_every=1, checkpoint_every=4, tensorboard=False, device="cpu")
    settings.update(checkpoint_dir=str(folder), **fields)
    return make_config(settings)


def _quiet(config, **kwargs):
    return train(config, progress=False, echo=lambda _: None, **kwargs)


def _records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def _theta(model) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def test_resume_after_a_crash_reaches_the_same_theta(tmp_path):
    """Adam as the outer optimizer and an annealed ε, so the optimizer's state and the step both matter."""
    fields = dict(outer_optimizer="adam", anneal=True, epsilon=0.01)
    whole = _quiet(_config(tmp_path / "whole", **fields))

    def crash(step, loss):
        if step == 10:  # after the checkpoint at step 8: steps 9 and 10 are lost and run again
            raise RuntimeError("the machine went away")

    broken = _config(tmp_path / "broken", **fields)
    with pytest.raises(RuntimeError, match="went away"):
        _quiet(broken, callback=crash)
    assert torch.load(tmp_path / "broken" / "checkpoint.pt", weights_only=True)["step"] == 8
    resumed = _quiet(broken)
    assert resumed.step == 12
    for name, value in _theta(whole.model).items():
        assert torch.equal(value, _theta(resumed.model)[name]), name  # bit for bit

    # The log reads as one run: the crashed run's steps 9 and 10 were dropped, then written again.
    def numbers(folder):
        return [(r["step"], r.get("loss"), r.get("eval_loss")) for r in _records(folder)]

    assert numbers(tmp_path / "broken") == numbers(tmp_path / "whole")


def test_a_stop_saves_and_the_same_command_goes_on(tmp_path):
    config = _config(tmp_path)
    whole = _theta(_quiet(_config(tmp_path / "whole")).model)
    first = _quiet(config, callback=lambda step, loss: step < 7)
    assert (first.step, first.stopped) == (7, "callback")
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 7
    second = _quiet(config)
    assert second.step == 12 and second.stopped is None
    for name, value in whole.items():
        assert torch.equal(value, second.model.get_parameter(name).detach()), name
    assert [r["step"] for r in _records(tmp_path) if "loss" in r] == list(range(1, 13))
    evaluations = [r for r in _records(tmp_path) if "eval_loss" in r]
    assert [r["step"] for r in evaluations] == [6, 12]
    assert evaluations[-1]["eval_loss"] < evaluations[-1]["eval_loss_before"]  # adaptation helps on held-out tasks
    loaded = load_trained(tmp_path)
    for name, value in whole.items():
        assert torch.equal(value, loaded.get_parameter(name).detach())


def test_resuming_with_other_settings_names_the_field(tmp_path):
    _quiet(_config(tmp_path, steps=4))
    with pytest.raises(ConfigError, match=r"made with k=3; this run asks for k=2") as err:
        _quiet(_config(tmp_path, steps=8, k=2))
    assert err.value.field == "k"
    assert _quiet(_config(tmp_path, steps=8)).step == 8  # more steps is fine (ε is not annealed)
    assert _quiet(_config(tmp_path, steps=4), restart=True).step == 4


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"k": 0}, "k", r"k \(inner steps\) must be an integer ≥ 1; got 0"),
        ({"eta": -0.1}, "eta", r"eta \(η\) must be a finite number > 0"),
        ({"epsilon": 1.5}, "epsilon", r"epsilon \(ε\) must be a finite number > 0 and ≤ 1; got 1.5"),
        ({"meta_batch": "ten"}, "meta_batch", r"meta_batch \(n, tasks per meta-batch\) must be an integer"),
        ({"steps": 2.5}, "steps", r"steps must be an integer"),
        ({"family": "cats"}, "family", r"family must be one of 'sine', 'characters'; got 'cats'"),
        ({"model": "convnet"}, "model", r"model must be one of 'mlp-maml', 'mlp-reptile'"),
        ({"ways": 5}, "ways", r"field 'ways' applies to family 'characters' only"),
        ({"batch_size": 3}, "batch_size", r"batch_size must divide the number of support points per task \(10\)"),
        ({"inner_optimizer": "rmsprop"}, "inner_optimizer", r"inner_optimizer must be one of 'sgd', 'adam'"),
        ({"device": "tpu"}, "device", r"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'"),
        ({"anneal": "yes"}, "anneal", r"anneal must be true or false"),
        ({"inner_stpes": 5}, "inner_stpes", r"unknown field 'inner_stpes'; the fields are: family, preset"),
    ],
)
def test_a_bad_setting_names_the_field_and_its_range(tmp_path, fields, field, message):
    with pytest.raises(ConfigError, match=message) as err:
        _config(tmp_path, **fields)
    assert err.value.field == field


def test_the_command_reports_a_bad_config_file_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text('family = "sine"\neta = 0.0\n')
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"error in {path}: eta (η) must be a finite number > 0; got 0.0." in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["--config", str(path), "--k", "0", "--eta", "0.1"])
    assert "error in --k: k (inner steps) must be an integer ≥ 1; got 0." in capsys.readouterr().err
    path.write_text("eta = [oops")
    with pytest.raises(SystemExit):
        main(["--config", str(path)])
    assert "is not valid TOML" in capsys.readouterr().err


def test_a_config_file_gives_the_same_run_as_flags(tmp_path, capsys):
    (tmp_path / "run.json").write_text(json.dumps({"family": "sine", "k": 2, "steps": 3}))
    (tmp_path / "run.toml").write_text('family = "sine"\nk = 2\nsteps = 3\n')
    outputs = []
    for args in (["--config", str(tmp_path / "run.json")], ["--config", str(tmp_path / "run.toml")], ["--k", "2"]):
        assert main([*args, "--steps", "3", "--print-config"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2] and "k = 2\n" in outputs[0] and "steps = 3\n" in outputs[0]


def test_a_damaged_checkpoint_is_reported(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(
        CheckpointError, match="is damaged or not a reptile-edu checkpoint .* start over with --restart"
    ):
        _quiet(_config(tmp_path))


def test_divergence_stops_with_the_step_and_what_to_lower(tmp_path):
    with pytest.raises(
        DivergenceError, match=r"Reptile diverged at outer step 1: .* Lower the inner learning rate η \(eta=50\)"
    ):
        _quiet(_config(tmp_path, eta=50.0))
    assert not (tmp_path / "checkpoint.pt").exists()  # nothing non-finite is saved


def test_no_flag_is_taken_by_torchrun():
    """torchrun's parser swallows any flag that is a prefix of its own (``--n`` would be), even after the module."""
    from torch.distributed.run import get_args_parser

    theirs = [o for a in get_args_parser()._actions for o in a.option_strings if o.startswith("--")]
    ours = [o for a in build_parser()._actions for o in a.option_strings if o.startswith("--") and o != "--help"]
    assert ours and not [(o, t) for o in ours for t in theirs if t.startswith(o)]


def test_character_episodes_train_a_convnet(tmp_path, monkeypatch):
    """The built-in alphabets' family, on two small alphabets (Latin to train, Hebrew held out)."""
    chars = generate_alphabets(alphabets=["Latin", "Hebrew"], instances=12)
    monkeypatch.setattr(train_module, "builtin_alphabets", lambda split="all": chars.split(split))
    config = make_config(
        dict(family="characters", steps=2, meta_batch=2, eval_every=2, eval_tasks=4, checkpoint_dir=str(tmp_path))
    )
    assert (config.model, config.ways, config.batch_size, config.eval_shots) == ("convnet", 5, 10, 1)
    result = _quiet(config)
    assert result.step == 2
    record = _records(tmp_path)[-1]
    assert 0 <= record["eval_accuracy"] <= 1 and record["eval_loss"] > 0
    with pytest.raises(ConfigError, match=r"shots must be an integer between 1 and 11") as err:
        _quiet(make_config(dict(family="characters", shots=12, checkpoint_dir=str(tmp_path / "x"))))
    assert err.value.field == "shots"


def test_a_killed_command_resumes_from_its_checkpoint(tmp_path):
    """SIGKILL the real command once it has saved a checkpoint; running it again ends at the uninterrupted θ."""
    folder = tmp_path / "run"
    args = ["--family", "sine", "--preset", "maml", "--k", "1", "--meta-batch", "2", "--steps", "600"]
    args += ["--checkpoint-every", "50", "--eval-every", "0", "--log-every", "100", "--seed", "3", "--device", "cpu"]
    command = [sys.executable, "-m", "reptile_edu.train", *args, "--checkpoint-dir", str(folder), "--no-progress"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("REPTILE_EDU_LANG", None)  # the messages the test reads are the English ones
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (folder / "checkpoint.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the run ended before it could be killed: " + proc.stderr.read().decode()
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    killed_at = torch.load(folder / "checkpoint.pt", weights_only=True)["step"]
    assert 0 < killed_at < 600
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"resuming at outer step {killed_at} of 600" in done.stdout
    theta = torch.load(folder / "checkpoint.pt", weights_only=True)["model"]
    parser_args = build_parser().parse_args(args)
    fields = {name: getattr(parser_args, name) for name in vars(parser_args) if getattr(parser_args, name) is not None}
    fields = {k: v for k, v in fields.items() if k not in ("config", "restart", "no_progress", "print_config")}
    whole = _quiet(make_config({**fields, "checkpoint_dir": str(tmp_path / "whole"), "tensorboard": False}))
    for name, value in whole.model.named_parameters():
        assert torch.equal(theta[name], value.detach()), name


def test_a_diverging_evaluation_is_logged_and_training_goes_on(tmp_path, monkeypatch):
    def diverges(*args, **kwargs):
        raise DivergenceError("Adaptation", 3, float("nan"), "the inner learning rate η (eta=0.02)", unit="inner step")

    monkeypatch.setattr(train_module, "evaluate", diverges)
    result = _quiet(_config(tmp_path, steps=6, eval_every=3))
    assert result.step == 6
    errors = [r for r in _records(tmp_path) if "eval_error" in r]
    assert [r["step"] for r in errors] == [3, 6] and "diverged at inner step 3" in errors[0]["eval_error"]


def test_the_command_speaks_the_language_of_reptile_edu_lang(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REPTILE_EDU_LANG", "tr")
    args = ["--steps", "2", "--meta-batch", "2", "--eval-every", "0", "--no-tensorboard", "--no-progress"]
    assert main([*args, "--checkpoint-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "sinüs görevleri" in out and "bitti: 2 dış adım" in out
    assert main([*args, "--checkpoint-dir", str(tmp_path)]) == 0
    assert "yapılacak bir şey yok" in capsys.readouterr().out


def test_a_bad_setting_is_explained_in_the_learners_language(tmp_path):
    set_language("zh")  # the autouse fixture puts English back
    with pytest.raises(ConfigError, match=r"k（内循环步数）必须是 ≥ 1 的整数，但传入的是 0。") as err:
        _config(tmp_path, k=0)
    assert err.value.field == "k"
    with pytest.raises(ConfigError, match=r"meta_batch（n，元批次中的任务数）必须是整数"):
        _config(tmp_path, meta_batch="ten")
    set_language("tr")
    with pytest.raises(ConfigError, match=r"'ways' alanı yalnızca 'characters' ailesi için geçerli"):
        _config(tmp_path, ways=5)
