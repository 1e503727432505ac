//! millwright-twin
