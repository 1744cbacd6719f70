//! What shows are filed under and members follow: categories and regions.

/// Show categories: a show has one, a member can follow several.
pub const CATEGORIES: [&str; 8] = [
    "concert",
    "musical",
    "play",
    "classical",
    "exhibition",
    "sports",
    "family",
    "festival",
];
/// Regions: a venue (and so its shows) is in one, a member can follow several.
pub const REGIONS: [&str; 17] = [
    "seoul",
    "busan",
    "daegu",
    "incheon",
    "gwangju",
    "daejeon",
    "ulsan",
    "sejong",
    "gyeonggi",
    "gangwon",
    "chungbuk",
    "chungnam",
    "jeonbuk",
    "jeonnam",
    "gyeongbuk",
    "gyeongnam",
    "jeju",
];
