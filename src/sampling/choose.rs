//! Which model answers: from the server's `modelPreferences` and the
//! configured candidates. Deterministic: same preferences, same model.

use serde::Deserialize;

use crate::protocol::ModelPreferences;

/// A model the client may use, with how it rates (each 0..1).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelCandidate {
    /// The model name sent to the endpoint.
    pub name: String,
    /// Relative price: 0 the cheapest, 1 the dearest.
    #[serde(default)]
    pub cost: f64,
    /// Relative speed: 1 the fastest.
    #[serde(default)]
    pub speed: f64,
    /// Relative capability: 1 the most capable.
    #[serde(default)]
    pub intelligence: f64,
}

impl ModelCandidate {
    /// A candidate with its ratings.
    pub fn new(name: impl Into<String>, cost: f64, speed: f64, intelligence: f64) -> Self {
        ModelCandidate {
            name: name.into(),
            cost,
            speed,
            intelligence,
        }
    }
}

/// The default model and the candidates preferences choose among.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelChoice {
    /// Used when no hint matches and no priority is given (or there are no
    /// candidates).
    pub default: String,
    /// Candidates, in order (earlier wins ties and hint matches).
    pub candidates: Vec<ModelCandidate>,
}

impl ModelChoice {
    /// A choice with only a default model.
    pub fn new(default: impl Into<String>) -> Self {
        ModelChoice {
            default: default.into(),
            candidates: Vec::new(),
        }
    }

    /// Picks the model:
    /// 1. hints in order: the first hint that is a substring (ignoring
    ///    case) of a candidate's name, or else of the default's, picks that
    ///    model (candidates in their order, then the default);
    /// 2. otherwise, when any priority is above 0 and there are candidates:
    ///    the candidate with the best `costPriority × (1 − cost) +
    ///    speedPriority × speed + intelligencePriority × intelligence`
    ///    (priorities clamped to 0..1; the earlier one on a tie);
    /// 3. otherwise the default.
    pub fn choose(&self, prefs: Option<&ModelPreferences>) -> &str {
        let Some(prefs) = prefs else {
            return &self.default;
        };
        let hints = prefs
            .hints
            .iter()
            .flatten()
            .filter_map(|h| h.name.as_deref());
        for hint in hints.filter(|h| !h.trim().is_empty()) {
            let hint = hint.to_lowercase();
            let names = self
                .candidates
                .iter()
                .map(|c| c.name.as_str())
                .chain(std::iter::once(self.default.as_str()));
            if let Some(name) = names.into_iter().find(|n| n.to_lowercase().contains(&hint)) {
                return name;
            }
        }
        let p = |v: Option<f64>| v.unwrap_or(0.0).clamp(0.0, 1.0);
        let (cost, speed, intelligence) = (
            p(prefs.cost_priority),
            p(prefs.speed_priority),
            p(prefs.intelligence_priority),
        );
        if cost + speed + intelligence <= 0.0 {
            return &self.default;
        }
        let score = |c: &ModelCandidate| {
            cost * (1.0 - c.cost) + speed * c.speed + intelligence * c.intelligence
        };
        let mut best: Option<(&ModelCandidate, f64)> = None;
        for c in &self.candidates {
            let s = score(c);
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((c, s));
            }
        }
        best.map(|(c, _)| c.name.as_str()).unwrap_or(&self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ModelHint;

    fn choice() -> ModelChoice {
        ModelChoice {
            default: "gpt-4o-mini".into(),
            candidates: vec![
                ModelCandidate::new("claude-3-haiku", 0.1, 0.9, 0.4),
                ModelCandidate::new("claude-3-5-sonnet", 0.6, 0.5, 0.9),
                ModelCandidate::new("llama3.1:8b", 0.0, 0.7, 0.3),
            ],
        }
    }

    fn prefs(hints: &[&str], c: f64, s: f64, i: f64) -> ModelPreferences {
        ModelPreferences {
            hints: Some(
                hints
                    .iter()
                    .map(|h| ModelHint {
                        name: Some(h.to_string()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            cost_priority: Some(c),
            speed_priority: Some(s),
            intelligence_priority: Some(i),
            ..Default::default()
        }
    }

    #[test]
    fn the_first_matching_hint_wins() {
        let c = choice();
        assert_eq!(
            c.choose(Some(&prefs(&["gemini", "Sonnet", "haiku"], 0., 0., 0.))),
            "claude-3-5-sonnet"
        );
        assert_eq!(
            c.choose(Some(&prefs(&["claude"], 0., 0., 0.))),
            "claude-3-haiku"
        );
        assert_eq!(c.choose(Some(&prefs(&["4o"], 0., 0., 0.))), "gpt-4o-mini");
    }

    #[test]
    fn priorities_pick_the_best_weighted_candidate() {
        let c = choice();
        assert_eq!(
            c.choose(Some(&prefs(&["gemini"], 0., 0., 1.))),
            "claude-3-5-sonnet"
        );
        assert_eq!(c.choose(Some(&prefs(&[], 0., 1., 0.))), "claude-3-haiku");
        assert_eq!(c.choose(Some(&prefs(&[], 1., 0., 0.))), "llama3.1:8b");
        // Out-of-range priorities are clamped, not trusted.
        assert_eq!(
            c.choose(Some(&prefs(&[], -5., 0., 9.))),
            "claude-3-5-sonnet"
        );
    }

    #[test]
    fn otherwise_the_default() {
        let c = choice();
        assert_eq!(c.choose(None), "gpt-4o-mini");
        assert_eq!(
            c.choose(Some(&prefs(&["gemini"], 0., 0., 0.))),
            "gpt-4o-mini"
        );
        assert_eq!(
            ModelChoice::new("x").choose(Some(&prefs(&[], 1., 1., 1.))),
            "x"
        );
    }
}
