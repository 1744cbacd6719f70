//! Seller approval: a company's status and the setting that says what a new company starts as.

/// A company's approval: a pending or suspended company drafts shows but cannot publish them
/// (`company_not_approved`); admins approve and suspend (`POST /api/v2/admin/companies/{id}/approval`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approval {
    Pending,
    Approved,
    Suspended,
}

impl Approval {
    pub const ALL: [Approval; 3] = [Approval::Pending, Approval::Approved, Approval::Suspended];

    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Pending => "pending",
            Approval::Approved => "approved",
            Approval::Suspended => "suspended",
        }
    }

    pub fn parse(text: &str) -> Option<Approval> {
        Approval::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// Whether a new company may publish at once or waits for an admin (`ApiConfig::seller_approval`,
/// `picket up --seller-approval`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SellerApproval {
    /// A new company starts approved (admins can still suspend it).
    #[default]
    Automatic,
    /// A new company starts pending until an admin approves it.
    Required,
}

impl SellerApproval {
    pub fn parse(text: &str) -> Option<SellerApproval> {
        match text {
            "automatic" => Some(SellerApproval::Automatic),
            "required" => Some(SellerApproval::Required),
            _ => None,
        }
    }

    /// What a newly registered company starts as.
    pub fn initial(self) -> Approval {
        match self {
            SellerApproval::Automatic => Approval::Approved,
            SellerApproval::Required => Approval::Pending,
        }
    }
}
