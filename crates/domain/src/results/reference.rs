//! TEMPORARY SHIM (not committed).
pub struct Gcm {
    pub number: u8,
    pub short_label: String,
    pub title: String,
}
pub struct Sdg {
    pub target: String,
    pub theme: String,
    pub title: String,
}
pub fn gcm_objectives() -> Vec<Gcm> {
    (1..=23)
        .map(|n| Gcm {
            number: n,
            short_label: format!("Objective {n}"),
            title: String::new(),
        })
        .collect()
}
pub fn sdg_targets() -> Vec<Sdg> {
    ["10.7", "10.c", "5.2", "8.7", "8.8", "16.2", "17.18", "4.b"]
        .iter()
        .map(|t| Sdg {
            target: (*t).into(),
            theme: String::new(),
            title: String::new(),
        })
        .collect()
}
