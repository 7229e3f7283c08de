"""Reptile for RL (reptile_edu.rl): dynamics, GAE, the batched runner, the PPO loss, meta-learning."""

import math

import pytest
import torch

import reptile_edu
from reptile_edu import DivergenceError
from reptile_edu.rl import (
    ActorCritic,
    CartPoleFamily,
    PointNavigation,
    PPOSettings,
    RolloutBuffer,
    adapt_policy,
    adaptation_returns,
    collect,
    collect_per_task,
    draw_noise,
    gae,
    joint_rl,
    per_task,
    ppo_losses,
    reptile_rl,
)
from reptile_edu.rl import meta as rl_meta


def agent(family, seed=0, **kwargs):
    torch.manual_seed(seed)
    return ActorCritic.for_family(family, **kwargs)


# -- the navigation family ---------------------------------------------------------------


def test_navigation_clips_each_coordinate_and_rewards_minus_the_distance_after_the_move():
    nav = PointNavigation()
    position = torch.tensor([[0.0, 0.0], [0.45, -0.2]])
    action = torch.tensor([[0.3, -0.05], [-1.0, 0.02]])
    goal = torch.tensor([[0.1, 0.25], [0.0, 0.0]])
    new, reward = nav.step(position, action, goal)
    assert torch.allclose(new, torch.tensor([[0.1, -0.05], [0.35, -0.18]]))
    assert torch.allclose(reward, torch.tensor([-0.3, -math.hypot(0.35, 0.18)]))


def test_navigation_episodes_start_at_the_origin_last_the_horizon_and_end_only_there():
    nav = PointNavigation(horizon=7)
    policy = agent(nav)
    goals = torch.tensor([[0.5, 0.5], [-0.2, 0.1]])
    buf = collect(policy, nav, goals, episodes=3, generator=torch.Generator().manual_seed(0))
    assert buf.obs.shape == (2, 3, 7, 2) and buf.actions.shape == (2, 3, 7, 2)
    assert torch.equal(buf.obs[:, :, 0], torch.zeros(2, 3, 2))
    assert torch.equal(buf.mask, torch.ones(2, 3, 7))
    assert torch.equal(buf.dones[..., -1], torch.ones(2, 3)) and buf.dones[..., :-1].sum() == 0
    # positions follow the clipped actions, rewards are −‖s' − g‖ of the next position
    moved = buf.obs[:, :, 0] + buf.actions[:, :, 0].clamp(-0.1, 0.1)
    assert torch.allclose(buf.obs[:, :, 1], moved)
    assert torch.allclose(buf.rewards[:, :, 0], -(moved - goals.unsqueeze(1)).norm(dim=-1))


# -- GAE -----------------------------------------------------------------------------------


def test_gae_matches_a_hand_computed_example():
    # γ = 0.9, λ = 0.8: δ2 = 2 − (−0.5) = 2.5; δ1 = 0 + 0.9·(−0.5) − 1 = −1.45; δ0 = 1 + 0.9·1 − 0.5 = 1.4
    # A2 = 2.5; A1 = −1.45 + 0.72·2.5 = 0.35; A0 = 1.4 + 0.72·0.35 = 1.652
    rewards = torch.tensor([1.0, 0.0, 2.0])
    values = torch.tensor([0.5, 1.0, -0.5])
    dones = torch.tensor([0.0, 0.0, 1.0])
    adv, targets = gae(rewards, values, dones, gamma=0.9, lam=0.8)
    assert torch.allclose(adv, torch.tensor([1.652, 0.35, 2.5]))
    assert torch.allclose(targets, adv + values)


def test_gae_does_not_look_past_the_end_of_an_episode_and_has_its_two_limits():
    rewards, values = torch.tensor([1.0, 5.0, 7.0]), torch.tensor([0.2, 0.3, 0.4])
    cut = torch.tensor([1.0, 0.0, 1.0])  # the first episode ends after step 0
    adv, _ = gae(rewards, values, cut, gamma=0.9, lam=0.8)
    assert adv[0] == pytest.approx(1.0 - 0.2)
    ends = torch.tensor([0.0, 0.0, 1.0])
    mc, _ = gae(rewards, values, ends, gamma=0.9, lam=1.0)  # λ = 1: discounted return − V
    assert torch.allclose(mc, torch.tensor([1 + 0.9 * 5 + 0.81 * 7, 5 + 0.9 * 7, 7.0]) - values)
    td, _ = gae(rewards, values, ends, gamma=0.9, lam=0.0)  # λ = 0: the one-step TD error
    assert torch.allclose(td, torch.tensor([1 + 0.9 * 0.3 - 0.2, 5 + 0.9 * 0.4 - 0.3, 7 - 0.4]))


# -- the runner ------------------------------------------------------------------------------


@pytest.mark.parametrize("family", [PointNavigation(horizon=20), CartPoleFamily(horizon=60)], ids=lambda f: f.name)
def test_the_batched_runner_equals_a_loop_over_tasks(family):
    policy = agent(family)
    tasks = family.sample_tasks(4, torch.Generator().manual_seed(1))
    theta = {n: p.detach() + 0.05 * torch.randn(4, *p.shape) for n, p in policy.named_parameters()}  # θ_t per task
    noise = draw_noise(policy, 4, 3, family.horizon, torch.Generator().manual_seed(2))
    batched = collect(policy, family, tasks, episodes=3, params=theta, generator=torch.Generator().manual_seed(3),
                      noise=noise)  # fmt: skip
    loop = collect_per_task(policy, family, tasks, episodes=3, params=theta, generator=torch.Generator().manual_seed(3),
                            noise=noise)  # fmt: skip
    for t, one in enumerate(loop):
        h = one.rewards.shape[-1]
        assert batched.mask[t, :, h:].sum() == 0  # the batch ran on only while another task was alive
        for name in ("obs", "actions", "rewards", "dones", "mask", "log_probs", "values"):
            assert torch.allclose(getattr(batched, name)[t : t + 1, :, :h], getattr(one, name), atol=1e-6), name


def test_cartpole_episodes_end_when_the_pole_falls_and_are_masked_after():
    family = CartPoleFamily(horizon=200)
    policy = agent(family)
    buf = collect(policy, family, family.sample_tasks(3, torch.Generator().manual_seed(0)), episodes=4,
                  generator=torch.Generator().manual_seed(0))  # fmt: skip
    lengths = buf.mask.sum(-1)
    assert (lengths < 200).all() and (lengths >= 8).all()  # a random policy drops the pole within 200 steps
    assert torch.equal(buf.returns(), lengths)  # reward 1 per step while up
    assert torch.equal(buf.dones.sum(-1), torch.ones(3, 4))  # exactly one end per episode
    ends = buf.dones.argmax(-1)
    assert torch.equal(ends + 1, lengths.long())


# -- the actor-critic loss and the inner loop ---------------------------------------------------


def _buffer(family, policy, tasks=3, episodes=4, seed=0):
    goals = family.sample_tasks(tasks, torch.Generator().manual_seed(seed))
    return collect(policy, family, goals, episodes=episodes, generator=torch.Generator().manual_seed(seed + 1))


def test_at_the_first_step_the_ppo_clip_gradient_is_the_a2c_gradient():
    nav = PointNavigation(horizon=15)
    policy = agent(nav)
    buf = _buffer(nav, policy).compute_advantages()
    theta = {n: p.clone().requires_grad_(True) for n, p in per_task(policy, None, 3).items()}
    terms = ppo_losses(policy, theta, buf, PPOSettings(value_coef=0.5, entropy_coef=0.01))
    grads = torch.autograd.grad(terms.total.sum(), list(theta.values()))
    # A2C by hand: −mean(log π · Â) + c·mean(((V − R̂)/scale)²) − β·entropy, Â normalised per task
    obs, actions = buf.obs.flatten(1, 2), buf.actions.flatten(1, 2)
    logp, ent = policy.log_prob_entropy(theta, obs, actions)
    adv = buf.advantages.flatten(1)
    adv = (adv - adv.mean(1, keepdim=True)) / (adv.std(1, unbiased=False, keepdim=True) + 1e-8)
    value = ((policy.value(theta, obs) - buf.targets.flatten(1)) / policy.value_scale).pow(2).mean(1)
    a2c = -(logp * adv).mean(1) + 0.5 * value - 0.01 * ent.mean(1)
    expected = torch.autograd.grad(a2c.sum(), list(theta.values()))
    for g, e in zip(grads, expected):
        assert torch.allclose(g, e, atol=1e-6)
    assert torch.allclose(terms.total, terms.policy + 0.5 * terms.value - 0.01 * terms.entropy)


def test_the_clip_stops_the_gradient_of_actions_whose_ratio_left_the_range():
    nav = PointNavigation(horizon=10)
    policy = agent(nav)
    buf = _buffer(nav, policy, tasks=1).compute_advantages()
    theta = per_task(policy, None, 1)
    far = {n: (p + 1.0 if n == "actor.layers.2.bias" else p).clone().requires_grad_(True) for n, p in theta.items()}
    terms = ppo_losses(policy, far, buf, PPOSettings(clip=1e-3, value_coef=1e-9))
    (g,) = torch.autograd.grad(terms.policy.sum(), [far["actor.layers.2.bias"]])
    logp, _ = policy.log_prob_entropy(far, buf.obs.flatten(1, 2), buf.actions.flatten(1, 2))
    ratio = (logp - buf.log_probs.flatten(1)).exp()
    assert ((ratio - 1).abs() > 1e-3).all()  # every action is outside the (tiny) clip range …
    adv = buf.advantages.flatten(1)
    inside = ((ratio > 1) & (adv < 0)) | ((ratio < 1) & (adv > 0))  # … and only these keep a gradient
    assert 0 < int(inside.sum()) < inside.numel() and g.abs().sum() > 0


def test_the_inner_loop_improves_the_return_on_one_fixed_goal():
    nav = PointNavigation()
    policy = agent(nav)
    goal = torch.tensor([[0.4, -0.3]]).expand(4, 2)  # one goal, four independent runs
    curve = adaptation_returns(policy, nav, goal, updates=8, k=5, eta=0.003, episodes=10,
                               generator=torch.Generator().manual_seed(0)).mean  # fmt: skip
    assert sum(curve[-3:]) / 3 > curve[0] + 10, curve  # about −60 → −40 on this seed


def test_joint_adaptation_moves_every_task_the_same_way():
    nav = PointNavigation(horizon=15)
    policy = agent(nav)
    buf = _buffer(nav, policy).compute_advantages()
    theta_tilde, _ = adapt_policy(policy, per_task(policy, None, 3), buf, k=2, eta=0.1, joint=True)
    for p in theta_tilde.values():
        assert torch.allclose(p, p[:1].expand_as(p))
    separate, _ = adapt_policy(policy, per_task(policy, None, 3), buf, k=2, eta=0.1)
    assert not torch.allclose(separate["actor.layers.2.bias"][0], separate["actor.layers.2.bias"][1])


# -- Reptile -----------------------------------------------------------------------------------


def test_reptile_rl_takes_the_supervised_lessons_outer_step_and_records_the_three_losses():
    assert rl_meta.reptile_outer_step is reptile_edu.reptile_outer_step
    nav = PointNavigation(horizon=20)
    policy = agent(nav)
    before = {n: p.detach().clone() for n, p in policy.named_parameters()}
    settings = PPOSettings(entropy_coef=0.01)
    h = reptile_rl(policy, nav, steps=3, k=2, eta=0.1, epsilon=0.5, meta_batch=4, episodes=3, settings=settings,
                   generator=torch.Generator().manual_seed(0), progress=False)  # fmt: skip
    assert h.step == [1, 2, 3] and len(h.policy_loss) == len(h.value_loss) == len(h.loss) == len(h.mean_return) == 3
    for total, pol, val, ent in zip(h.loss, h.policy_loss, h.value_loss, h.entropy):
        assert total == pytest.approx(pol + 0.5 * val - 0.01 * ent, abs=1e-5)
    assert any(not torch.equal(before[n], p) for n, p in policy.named_parameters())
    # one outer step by hand: the same buffer, θ̃ from the inner loop, θ + ε·mean(θ̃ − θ)
    policy2, g = agent(nav), torch.Generator().manual_seed(0)
    reptile_rl(policy2, nav, steps=1, k=2, eta=0.1, epsilon=0.5, meta_batch=4, episodes=3, settings=settings,
               generator=g, progress=False)  # fmt: skip
    g = torch.Generator().manual_seed(0)
    ref = agent(nav)
    buf = collect(ref, nav, nav.sample_tasks(4, g), episodes=3, generator=g).compute_advantages()
    theta_tilde, _ = adapt_policy(ref, per_task(ref, None, 4), buf, k=2, eta=0.1, settings=settings)
    for n, p in ref.named_parameters():
        assert torch.allclose(dict(policy2.named_parameters())[n], p + 0.5 * (theta_tilde[n] - p).mean(0), atol=1e-6)


def test_after_short_meta_training_one_update_from_reptiles_theta_beats_one_from_a_random_theta():
    nav = PointNavigation()
    settings = PPOSettings(batch_episodes=5)  # the lesson's adaptation: k = 2 Adam steps of η on 5 episodes each
    k, eta, episodes = 2, 0.001, 10
    reptile_policy, random_policy = agent(nav), agent(nav)
    reptile_rl(reptile_policy, nav, steps=30, k=k, eta=eta, epsilon=0.5, meta_batch=10, episodes=episodes,
               settings=settings, generator=torch.Generator().manual_seed(0), progress=False)  # fmt: skip
    held_out = nav.sample_tasks(30, torch.Generator().manual_seed(123))
    after_one = {}
    for name, policy in (("reptile", reptile_policy), ("random", random_policy)):
        r = adaptation_returns(policy, nav, held_out, updates=1, k=k, eta=eta, episodes=episodes, settings=settings,
                               generator=torch.Generator().manual_seed(7))  # fmt: skip
        after_one[name] = r.interval()[1]
    (reptile, half_r), (random, half_0) = after_one["reptile"], after_one["random"]
    assert reptile - half_r > random + half_0, after_one  # the 95 % intervals over goals do not overlap


# -- bad input ---------------------------------------------------------------------------------


def test_a_diverging_update_raises_and_the_policy_keeps_its_last_finite_parameters():
    nav = PointNavigation(horizon=10)
    policy = agent(nav)
    reptile_rl(policy, nav, steps=1, k=1, eta=0.1, epsilon=0.5, meta_batch=2, episodes=2, progress=False)
    good = {n: p.detach().clone() for n, p in policy.named_parameters()}
    with pytest.raises(DivergenceError, match=r"Reptile diverged at outer step 2.*Lower the inner learning rate η"):
        reptile_rl(policy, nav, steps=3, k=3, eta=1e30, epsilon=0.5, meta_batch=2, episodes=2, progress=False,
                   history=rl_meta.RLHistory("Reptile", step=[1]))  # fmt: skip
    for n, p in policy.named_parameters():
        assert torch.equal(p, good[n])
    with pytest.raises(DivergenceError, match="Adaptation diverged at adaptation update 1"):
        adaptation_returns(policy, nav, nav.sample_tasks(2), updates=2, k=3, eta=1e30, episodes=2)
    with pytest.raises(DivergenceError, match="Joint training diverged"):
        joint_rl(policy, nav, steps=1, k=3, eta=1e30, meta_batch=2, episodes=2, progress=False)


class NaNRewards(PointNavigation):
    def make(self, tasks, episodes, generator=None, device="cpu"):
        batch = super().make(tasks, episodes, generator, device)
        step = batch.step

        def bad_step(action):
            obs, reward, ended = step(action)
            reward[1, 0] = float("nan")
            return obs, reward, ended

        batch.step = bad_step
        return batch


def test_a_nan_reward_is_reported_with_the_task_and_step():
    nav = NaNRewards(horizon=5)
    with pytest.raises(ValueError, match=r"non-finite reward \(nan\) for task 1 .* episode 0, step 0"):
        collect(agent(nav), nav, torch.zeros(2, 2), episodes=2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p, f: reptile_rl(p, f, steps=1, k=0, progress=False), r"k \(inner steps\) must be an integer ≥ 1"),
        (lambda p, f: reptile_rl(p, f, steps=1, eta=-0.1, progress=False), r"η \(eta\) must be a finite number > 0"),
        (lambda p, f: reptile_rl(p, f, steps=1, epsilon=0.0, progress=False), r"ε \(epsilon\) must be"),
        (lambda p, f: reptile_rl(p, f, steps=1, meta_batch=0, progress=False), r"n \(meta_batch\)"),
        (lambda p, f: reptile_rl(p, "nav", steps=1, progress=False), "family must be a task family"),
        (lambda p, f: reptile_rl(torch.nn.Linear(2, 2), f, steps=1, progress=False), "policy must be an ActorCritic"),
        (lambda p, f: collect(p, f, torch.zeros(3), episodes=1), r"tasks \(goal x, goal y\) must be a tensor \[T, 2\]"),
        (lambda p, f: collect(p, f, torch.zeros(1, 2), episodes=0), "episodes must be an integer ≥ 1"),
        (lambda p, f: PPOSettings(lam=1.5), r"λ \(lam\) must be a number between 0 and 1"),
        (lambda p, f: PPOSettings(clip=0), "clip must be a finite number > 0"),
        (lambda p, f: CartPoleFamily(gravity=(-1, 2)), "gravity must be a range"),
    ],
)
def test_bad_arguments_get_errors_that_name_them(call, message):
    nav = PointNavigation(horizon=5)
    with pytest.raises((ValueError, TypeError), match=message):
        call(agent(nav), nav)


def test_buffers_and_losses_run_on_cuda_when_present():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")
    nav = PointNavigation(horizon=10)
    policy = agent(nav).cuda()
    buf = collect(policy, nav, nav.sample_tasks(3), episodes=2).compute_advantages()
    assert buf.obs.device.type == "cuda"
    h = reptile_rl(policy, nav, steps=2, k=2, meta_batch=3, episodes=2, progress=False)
    assert all(math.isfinite(x) for x in h.loss)


def test_rollout_buffer_minibatches_slice_episodes():
    nav = PointNavigation(horizon=4)
    buf = _buffer(nav, agent(nav), tasks=2, episodes=6).compute_advantages()
    part = buf.episodes_slice(slice(2, 4))
    assert isinstance(part, RolloutBuffer) and part.obs.shape == (2, 2, 4, 2)
    assert torch.equal(part.advantages, buf.advantages[:, 2:4])


# -- the exercise ----------------------------------------------------------------------------------


def test_the_gae_checker_accepts_gae_and_names_each_common_mistake():
    from reptile_edu.exercises import check_gae

    assert check_gae(lambda r, v, d, gamma, lam: gae(r, v, d, gamma=gamma, lam=lam)[0])
    assert "A + V" in check_gae(lambda r, v, d, gamma, lam: gae(r, v, d, gamma=gamma, lam=lam)[1]).reason

    def no_dones(r, v, d, gamma, lam):
        return gae(r, v, torch.zeros_like(d), gamma=gamma, lam=lam)[0]

    assert "(1 − d_t)" in check_gae(no_dones).reason
    assert "γ·λ" in check_gae(lambda r, v, d, gamma, lam: gae(r, v, d, gamma=gamma, lam=1.0)[0]).reason
    assert "TD errors" in check_gae(lambda r, v, d, gamma, lam: gae(r, v, d, gamma=gamma, lam=0.0)[0]).reason
    stub = check_gae(lambda r, v, d, gamma, lam: torch.zeros_like(r))
    assert not stub and "off by" in stub.reason
    assert "raised" in check_gae(lambda r, v, d, gamma, lam: 1 / 0).reason


# -- the playground ------------------------------------------------------------------------------


def small_rl_playground():
    from reptile_edu.rl.playground import RLPlayground

    return RLPlayground(steps=2, held_out=3, episodes=4, batch_episodes=2, meta_batch=3, update_every=2, horizon=10)


def test_the_playground_trains_records_the_three_losses_and_the_held_out_return():
    pg = small_rl_playground()
    history = pg.run(3)
    assert history is not None and history.step == [1, 2, 3]
    assert len(pg.history.policy_loss) == len(pg.history.value_loss) == len(pg.history.loss) == 3
    assert [s for s, _ in pg.held_out_return] == [0, 2, 3]
    assert "Done: 3 outer steps" in pg.status.value and "return after one update" in pg.status.value
    assert pg.render()[:4] == b"\x89PNG"
    pg.run(2)  # a second run continues the curves
    assert pg.history.step == [1, 2, 3, 4, 5] and pg.held_out_return[-1][0] == 5


def test_a_diverging_playground_run_says_so_and_puts_theta_back():
    pg = small_rl_playground()
    pg.settings = PPOSettings(optimizer="sgd", batch_episodes=2)  # plain SGD: a huge η overflows
    pg.run(2)
    theta = [p.detach().clone() for p in pg.model.parameters()]
    steps, curve = list(pg.history.step), list(pg.held_out_return)
    pg.eta.value, pg.k.value = 10.0, 10
    assert pg.run(5) is None and pg.error is not None
    assert "Training diverged at outer step 3" in pg.status.value and "Lower η (now 10)" in pg.status.value
    assert all(torch.equal(a, b) for a, b in zip(theta, pg.model.parameters()))
    assert pg.history.step == steps and pg.held_out_return == curve
    assert len(pg.history.policy_loss) == len(pg.history.mean_return) == len(steps)
