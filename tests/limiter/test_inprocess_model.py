"""The in-process backend against a reference model written from SPEC §6, by Hypothesis.

The model keeps every admitted request and decides from scratch: a rolling rule (seconds
≤ 60) admits a request of cost ``c`` at ``t`` when the admissions in ``(t - seconds, t]``
plus ``c`` stay within the limit; a fixed rule counts the admissions of the same
epoch-aligned window. A request is admitted only if every rule admits it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from tater.limiter import Entity, InProcessBackend, Limiter, Rule

T0 = 1_900_002_000.0
RULES = (Rule(2, 3), Rule(5, 6), Rule(120, 9))  # two rolling rules sharing a log, one fixed
ENTITIES = ("user:1", "user:2", "key:abc")


@dataclass
class Model:
    admitted: dict[str, list[float]] = field(default_factory=dict)

    def used(self, key: str, rule: Rule, t: float) -> int:
        times = self.admitted.get(key, [])
        if rule.seconds <= 60:
            return sum(1 for a in times if a > t - rule.seconds)
        return sum(1 for a in times if a // rule.seconds == t // rule.seconds)

    def check(self, key: str, t: float, cost: int) -> tuple[bool, list[int]]:
        fits = all(self.used(key, r, t) + cost <= r.limit for r in RULES)
        if fits:
            self.admitted.setdefault(key, []).extend([t] * cost)
        return fits, [self.used(key, r, t) for r in RULES]


hits = st.lists(
    st.tuples(
        # milliseconds since the previous hit; whole seconds make hits land on window edges
        st.one_of(st.integers(min_value=0, max_value=1500), st.sampled_from([1000, 2000, 3000, 5000])),
        st.sampled_from(ENTITIES),
        st.integers(min_value=1, max_value=3),  # cost
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(hits=hits)
def test_in_process_backend_matches_the_model(hits: list[tuple[int, str, int]]) -> None:
    limiter = Limiter(InProcessBackend(sweep_interval=7.0), fail_open=False)
    model = Model()
    ms = 0
    for gap, key, cost in hits:
        ms += gap
        t = T0 + ms / 1000
        decision = limiter.check(Entity(key, RULES), cost=cost, now=t)
        expected, used = model.check(key, t, cost)
        assert decision.admitted == expected, (key, ms, cost)
        assert [s.used for s in decision.states] == used
        for state in decision.states:
            assert state.remaining == max(0, state.rule.limit - state.used)
            if not decision.admitted and state.retry_after > 0:
                # Waiting exactly retry_after makes room in that rule (the model agrees).
                later = t + state.retry_after
                assert model.used(key, state.rule, later) + cost <= state.rule.limit or cost > state.rule.limit


def test_idle_entities_are_dropped() -> None:
    backend = InProcessBackend(sweep_interval=10.0)
    limiter = Limiter(backend, fail_open=False)
    for i in range(100):
        limiter.check(Entity(f"user:{i}", [Rule(60, 5)]), now=T0)
    limiter.check(Entity("user:hour", [Rule(60, 5), Rule(3600, 5)]), now=T0)
    assert len(backend) == 101
    limiter.peek(Entity("user:0", [Rule(60, 5)]), now=T0 + 61)
    assert len(backend) == 1  # only the entity whose hour window is still open
    limiter.peek(Entity("user:0", [Rule(60, 5)]), now=T0 + 3600)
    assert len(backend) == 0
