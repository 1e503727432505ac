pub use deltalake::arrow;
