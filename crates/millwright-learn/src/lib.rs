//! millwright-learn
