//! millwright-impact
