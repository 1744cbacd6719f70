//! Sellers' companies and members' interests.

use crate::store::Store;
use crate::store::accounts::{Account, insert_account_with};

/// A seller's company as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Company {
    pub id: i64,
    pub owner_account_id: i64,
    pub name: String,
    pub business_number: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub created_at_ms: i64,
    /// `pending`, `approved` or `suspended` ([`crate::approval::Approval`]).
    pub approval: String,
}

/// A company as admins list it: with its owner's email and when its approval last changed.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ListedCompany {
    pub id: i64,
    pub name: String,
    pub business_number: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub created_at_ms: i64,
    pub approval: String,
    pub approval_changed_at_ms: Option<i64>,
    pub owner_email: String,
    pub shows: i64,
}

/// Why a seller could not be registered.
#[derive(Debug, PartialEq, Eq)]
pub enum SellerConflict {
    Email,
    BusinessNumber,
}

/// One interest of a member.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Interest {
    pub kind: String,
    pub value: String,
}

impl Store {
    /// The seller account and its company, both or neither.
    pub async fn insert_seller(
        &self,
        account: &Account,
        company: &Company,
    ) -> Result<Result<(), SellerConflict>, sqlx::Error> {
        let mut tx = self.begin().await?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM companies WHERE business_number = $1")
                .bind(&company.business_number)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Ok(Err(SellerConflict::BusinessNumber));
        }
        if !insert_account_with(&mut *tx, account).await? {
            return Ok(Err(SellerConflict::Email));
        }
        sqlx::query(
            "INSERT INTO companies (id, owner_account_id, name, business_number, contact_email, \
             contact_phone, created_at_ms, approval) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(company.id)
        .bind(company.owner_account_id)
        .bind(&company.name)
        .bind(&company.business_number)
        .bind(&company.contact_email)
        .bind(&company.contact_phone)
        .bind(company.created_at_ms)
        .bind(&company.approval)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    pub async fn company_of(&self, owner_account_id: i64) -> Result<Option<Company>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, owner_account_id, name, business_number, contact_email, contact_phone, \
             created_at_ms, approval FROM companies WHERE owner_account_id = $1",
        )
        .bind(owner_account_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// The company's approval status, if the company exists.
    pub async fn company_approval(&self, company: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT approval FROM companies WHERE id = $1")
            .bind(company)
            .fetch_optional(&self.pool)
            .await
    }

    /// Up to `rows` companies (of approval status `approval`, or all) with ids below `before`,
    /// newest first.
    pub async fn listed_companies(
        &self,
        approval: Option<&str>,
        before: i64,
        rows: i64,
    ) -> Result<Vec<ListedCompany>, sqlx::Error> {
        sqlx::query_as(
            "SELECT c.id, c.name, c.business_number, c.contact_email, c.contact_phone, \
             c.created_at_ms, c.approval, c.approval_changed_at_ms, a.email AS owner_email, \
             (SELECT COUNT(*) FROM shows s WHERE s.company_id = c.id) AS shows \
             FROM companies c JOIN accounts a ON a.id = c.owner_account_id \
             WHERE ($1 = '' OR c.approval = $1) AND c.id < $2 ORDER BY c.id DESC LIMIT $3",
        )
        .bind(approval.unwrap_or(""))
        .bind(before)
        .bind(rows)
        .fetch_all(&self.pool)
        .await
    }

    /// Sets the company's approval status; `false` when there is no such company.
    pub async fn set_company_approval(
        &self,
        company: i64,
        approval: &str,
        now_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE companies SET approval = $1, approval_changed_at_ms = $2 WHERE id = $3",
        )
        .bind(approval)
        .bind(now_ms)
        .bind(company)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() != 0)
    }

    /// One listed company.
    pub async fn listed_company(&self, company: i64) -> Result<Option<ListedCompany>, sqlx::Error> {
        sqlx::query_as(
            "SELECT c.id, c.name, c.business_number, c.contact_email, c.contact_phone, \
             c.created_at_ms, c.approval, c.approval_changed_at_ms, a.email AS owner_email, \
             (SELECT COUNT(*) FROM shows s WHERE s.company_id = c.id) AS shows \
             FROM companies c JOIN accounts a ON a.id = c.owner_account_id WHERE c.id = $1",
        )
        .bind(company)
        .fetch_optional(&self.pool)
        .await
    }

    /// Replaces the account's interests with `(kind, value)` pairs.
    pub async fn set_interests(
        &self,
        account_id: i64,
        interests: &[(&str, &str)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM interests WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        for (kind, value) in interests {
            sqlx::query("INSERT INTO interests (account_id, kind, value) VALUES ($1, $2, $3)")
                .bind(account_id)
                .bind(*kind)
                .bind(*value)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The account's interests as `(kind, value)`, sorted.
    pub async fn interests(&self, account_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
        let rows: Vec<Interest> = sqlx::query_as(
            "SELECT kind, value FROM interests WHERE account_id = $1 ORDER BY kind, value",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|i| (i.kind, i.value)).collect())
    }
}
