pub mod clock;
pub mod room;
