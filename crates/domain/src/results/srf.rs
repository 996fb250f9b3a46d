//! TEMPORARY SHIM (not committed): replaced by the helper's SRF module.
use super::model::{AggregationType, Direction, Measure};

#[derive(Debug, Clone)]
pub struct SrfIndicator {
    pub code: String,
    pub title: String,
    pub measure: Measure,
    pub aggregation: AggregationType,
    pub direction: Direction,
    pub unit: String,
}
#[derive(Debug, Clone, Copy)]
pub enum Level {
    Objective,
    Output,
}
impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Objective => "objective",
            Level::Output => "output",
        }
    }
}
#[derive(Debug, Clone)]
pub struct SrfNode {
    pub code: String,
    pub parent: Option<String>,
    pub level: Level,
    pub title: String,
    pub indicators: Vec<SrfIndicator>,
}
#[derive(Debug, Clone)]
pub struct Srf {
    pub nodes: Vec<SrfNode>,
}
impl Srf {
    pub fn nodes(&self) -> impl Iterator<Item = &SrfNode> {
        self.nodes.iter()
    }
}
pub fn shim() -> Srf {
    let ind = |code: &str, m: Measure| SrfIndicator {
        code: code.into(),
        title: format!("Indicator {code}"),
        measure: m,
        aggregation: AggregationType::Sum,
        direction: Direction::Ascending,
        unit: String::new(),
    };
    Srf {
        nodes: vec![
            SrfNode {
                code: "1".into(),
                parent: None,
                level: Level::Objective,
                title: "Saving lives".into(),
                indicators: vec![],
            },
            SrfNode {
                code: "1.1".into(),
                parent: Some("1".into()),
                level: Level::Output,
                title: "Assistance".into(),
                indicators: vec![
                    ind("1.1.a", Measure::Number),
                    ind("1.1.b", Measure::Percentage),
                ],
            },
        ],
    }
}
