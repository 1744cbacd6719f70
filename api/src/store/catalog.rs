//! Venues, shows, performances and their venue staff.

use crate::store::Store;

/// `shows.venue_pin` of a show whose publish has asked, or is about to ask, the ledger to open
/// a performance with its venue's seat map: the pin is never released (publish ids are never 0).
pub const VENUE_PIN_KEPT: i64 = 0;

/// The longest a publish attempt may take from pinning its show's venue to keeping the pin
/// (reading the map and checking every performance's spec against it: well under a second for
/// a 50,000-seat stadium and `PERFORMANCES_PER_SHOW_MAX` performances). A releasable pin older
/// than this is taken to be a crashed attempt's, and a venue change drops it; should the
/// attempt still be running, it finds its pin gone and opens nothing.
pub const PUBLISH_PIN_CHECK_MS_MAX: u64 = 60_000;

/// A new venue; `layout` is its seat map as JSON.
pub struct NewVenue<'a> {
    pub id: i64,
    pub owner_account_id: i64,
    pub name: &'a str,
    pub region: &'a str,
    pub address: &'a str,
    pub layout: String,
    pub seats: i64,
    pub created_at_ms: i64,
}

/// A venue's new name, region, address and seat map (`layout` as JSON) for `update_venue`.
pub struct VenueChange<'a> {
    pub name: &'a str,
    pub region: &'a str,
    pub address: &'a str,
    pub layout: String,
    pub seats: i64,
}

/// A venue as its pages need it; `layout` is JSON.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct VenueRow {
    pub name: String,
    pub region: String,
    pub address: String,
    pub layout: String,
}

/// A new draft show; the list columns are JSON.
pub struct NewShow<'a> {
    pub id: i64,
    pub company_id: i64,
    pub venue_id: i64,
    pub title: &'a str,
    pub category: &'a str,
    pub region: &'a str,
    pub description: &'a str,
    pub age_rating: &'a str,
    pub running_minutes: i64,
    pub grades: String,
    pub per_buyer_limit: i64,
    pub created_at_ms: i64,
    pub fees: Option<String>,
    pub booking_fee_won: i64,
    pub queue: String,
    pub discounts: String,
    pub coupons: String,
    /// The door settings (JSON).
    pub door: String,
    /// The waitlist settings (JSON).
    pub waitlist: String,
}

/// A show as stored: `grades` is a JSON array; `fees`, `queue`, `discounts` and `coupons` are
/// JSON or NULL (shows stored before they existed).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ShowRecord {
    pub company_id: i64,
    pub venue_id: i64,
    pub title: String,
    pub category: String,
    pub region: String,
    pub description: String,
    pub age_rating: String,
    pub running_minutes: i64,
    pub grades: String,
    pub per_buyer_limit: i64,
    pub status: String,
    pub fees: Option<String>,
    /// The booking fee per ticket (0 for shows stored before it existed).
    pub booking_fee_won: i64,
    pub queue: Option<String>,
    pub discounts: Option<String>,
    pub coupons: Option<String>,
    /// The door settings (JSON; NULL for shows stored before them: all off).
    pub door: Option<String>,
    /// The waitlist settings (JSON; NULL for shows stored before them: the defaults).
    pub waitlist: Option<String>,
}

/// A performance's times.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PerformanceRow {
    pub id: i64,
    pub starts_at_ms: i64,
    pub sale_open_at_ms: i64,
    pub sale_close_at_ms: i64,
}

/// What browsing filters published shows by; `None` does not filter.
pub struct ShowFilter<'a> {
    pub category: Option<&'a str>,
    pub region: Option<&'a str>,
    /// A `LIKE` pattern the lower-cased title must match, with `\` as its escape character.
    pub title_like: Option<&'a str>,
    /// Only ids below this one (the previous page's last).
    pub before: Option<i64>,
    /// Shows with a performance starting in `[from_ms, to_ms]`.
    pub starts_within_ms: Option<(i64, i64)>,
    /// Rows to return at most.
    pub rows: i64,
}

/// A show in a list.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ShowSummary {
    pub id: i64,
    pub title: String,
    pub category: String,
    pub region: String,
}

/// A show in its company's own list: drafts too, with how many performances it has and when
/// the first starts.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CompanyShow {
    pub id: i64,
    pub title: String,
    pub category: String,
    pub region: String,
    pub status: String,
    pub venue_id: i64,
    pub performances: i64,
    pub first_starts_at_ms: Option<i64>,
}

/// A venue in its owner's list.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OwnedVenue {
    pub id: i64,
    pub name: String,
    pub region: String,
    pub address: String,
    pub seats: i64,
}

/// A show a staff account is assigned to.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffShow {
    pub id: i64,
    pub title: String,
}

#[derive(sqlx::FromRow)]
struct SpecRow {
    spec: Option<String>,
}

/// A performance on sale (or about to be), as the admin's sales list reads it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SaleOnNow {
    pub performance: i64,
    pub starts_at_ms: i64,
    pub sale_open_at_ms: i64,
    pub sale_close_at_ms: i64,
    pub show_id: i64,
    pub title: String,
    /// The show's grades as stored (JSON).
    pub grades: String,
    pub company_id: i64,
    pub company: String,
    /// Bookings the projection has of it.
    pub bookings: i64,
}

impl Store {
    pub async fn insert_venue(&self, venue: &NewVenue<'_>) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO venues (id, owner_account_id, name, region, address, layout, seats, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(venue.id)
        .bind(venue.owner_account_id)
        .bind(venue.name)
        .bind(venue.region)
        .bind(venue.address)
        .bind(&venue.layout)
        .bind(venue.seats)
        .bind(venue.created_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replaces the venue's name, region, address and seat map unless the venue is in use:
    /// pinned by a show being published (`pin_venue`) or used by a published one (its show no
    /// longer a draft, or a performance's spec stored: shows published before pins existed);
    /// `Ok(false)` when it is. A releasable pin taken before `lapsed_before_ms` is a crashed
    /// publish's and is dropped first (`PUBLISH_PIN_CHECK_MS_MAX`).
    ///
    /// One transaction that writes the venue row first: `pin_venue` writes it too, so the two
    /// take turns on its row lock, and the check, a statement of its own, sees a pin committed
    /// while this waited (on PostgreSQL a single `UPDATE … WHERE NOT EXISTS` would check an
    /// older snapshot of `shows` and miss it). SQLite's write transactions take turns anyway.
    pub async fn update_venue(
        &self,
        id: i64,
        venue: &VenueChange<'_>,
        lapsed_before_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE venues SET name = $2, region = $3, address = $4, layout = $5, seats = $6 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(venue.name)
        .bind(venue.region)
        .bind(venue.address)
        .bind(&venue.layout)
        .bind(venue.seats)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE shows SET venue_pin = NULL, venue_pinned_at_ms = NULL \
             WHERE venue_id = $1 AND venue_pin <> $2 AND venue_pinned_at_ms < $3",
        )
        .bind(id)
        .bind(VENUE_PIN_KEPT)
        .bind(lapsed_before_ms)
        .execute(&mut *tx)
        .await?;
        let users: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM shows s WHERE s.venue_id = $1 AND (s.venue_pin IS NOT NULL \
             OR s.status <> 'draft' OR EXISTS (SELECT 1 FROM performances p \
             WHERE p.show_id = s.id AND p.spec IS NOT NULL))",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if users > 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Pins the show's venue for the publish attempt `attempt` (an id of its own, never
    /// `VENUE_PIN_KEPT`): from its commit on, `update_venue` refuses, so the seat map read after
    /// this is the one the venue keeps while the pin holds. Takes the pin over from an earlier
    /// attempt of the same show (one that crashed, or runs alongside: that one then fails at
    /// `keep_venue_pin`). `Ok(true)` if the show's pin is kept already (then it stays as it is).
    /// Writes the venue row first, like `update_venue` (why there).
    pub async fn pin_venue(
        &self,
        show: i64,
        venue: i64,
        attempt: i64,
        now_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE venues SET seats = seats WHERE id = $1")
            .bind(venue)
            .execute(&mut *tx)
            .await?;
        let pinned = sqlx::query(
            "UPDATE shows SET venue_pin = $2, venue_pinned_at_ms = $3 \
             WHERE id = $1 AND (venue_pin IS NULL OR venue_pin <> $4)",
        )
        .bind(show)
        .bind(attempt)
        .bind(now_ms)
        .bind(VENUE_PIN_KEPT)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(pinned.rows_affected() == 0)
    }

    /// Makes `attempt`'s pin permanent, before the ledger is asked to open anything with the
    /// map read under it; `Ok(false)` if the attempt no longer holds it (another attempt took
    /// it over, or `update_venue` dropped it as lapsed and may have changed the map since).
    pub async fn keep_venue_pin(&self, show: i64, attempt: i64) -> Result<bool, sqlx::Error> {
        let kept = sqlx::query("UPDATE shows SET venue_pin = $3 WHERE id = $1 AND venue_pin = $2")
            .bind(show)
            .bind(attempt)
            .bind(VENUE_PIN_KEPT)
            .execute(&self.pool)
            .await?;
        Ok(kept.rows_affected() == 1)
    }

    /// Releases `attempt`'s pin, if it still holds it and has not kept it: its publish failed
    /// before asking the ledger anything.
    pub async fn release_venue_pin(&self, show: i64, attempt: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE shows SET venue_pin = NULL, venue_pinned_at_ms = NULL \
             WHERE id = $1 AND venue_pin = $2",
        )
        .bind(show)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn venue(&self, id: i64) -> Result<Option<VenueRow>, sqlx::Error> {
        sqlx::query_as("SELECT name, region, address, layout FROM venues WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// The venues `owner` created with an id below `before`, newest first, at most `rows`.
    pub async fn owned_venues(
        &self,
        owner: i64,
        before: i64,
        rows: i64,
    ) -> Result<Vec<OwnedVenue>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, name, region, address, seats FROM venues \
             WHERE owner_account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(owner)
        .bind(before)
        .bind(rows)
        .fetch_all(&self.pool)
        .await
    }

    /// The company's shows (every status) with an id below `before`, newest first, at most
    /// `rows`.
    pub async fn company_shows(
        &self,
        company: i64,
        before: i64,
        rows: i64,
    ) -> Result<Vec<CompanyShow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT s.id, s.title, s.category, s.region, s.status, s.venue_id, \
             (SELECT COUNT(*) FROM performances p WHERE p.show_id = s.id) AS performances, \
             (SELECT MIN(p.starts_at_ms) FROM performances p WHERE p.show_id = s.id) AS first_starts_at_ms \
             FROM shows s WHERE s.company_id = $1 AND s.id < $2 ORDER BY s.id DESC LIMIT $3",
        )
        .bind(company)
        .bind(before)
        .bind(rows)
        .fetch_all(&self.pool)
        .await
    }

    /// The account that created the venue, if the venue exists.
    pub async fn venue_owner(&self, id: i64) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT owner_account_id FROM venues WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn insert_show(&self, show: &NewShow<'_>) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO shows (id, company_id, venue_id, title, category, region, description, age_rating, \
             running_minutes, grades, per_buyer_limit, status, created_at_ms, fees, queue, discounts, coupons, \
             booking_fee_won, door, waitlist) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'draft', $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(show.id)
        .bind(show.company_id)
        .bind(show.venue_id)
        .bind(show.title)
        .bind(show.category)
        .bind(show.region)
        .bind(show.description)
        .bind(show.age_rating)
        .bind(show.running_minutes)
        .bind(&show.grades)
        .bind(show.per_buyer_limit)
        .bind(show.created_at_ms)
        .bind(show.fees.as_deref())
        .bind(&show.queue)
        .bind(&show.discounts)
        .bind(&show.coupons)
        .bind(show.booking_fee_won)
        .bind(&show.door)
        .bind(&show.waitlist)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn show(&self, id: i64) -> Result<Option<ShowRecord>, sqlx::Error> {
        sqlx::query_as(
            "SELECT company_id, venue_id, title, category, region, description, age_rating, running_minutes, \
             grades, per_buyer_limit, status, fees, queue, discounts, coupons, booking_fee_won, door, \
             waitlist FROM shows WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// The show's status (`draft`, `published`), if it exists.
    pub async fn show_status(&self, id: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT status FROM shows WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Marks a draft show published (a published one stays as it is).
    pub async fn mark_published(&self, show: i64, now_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE shows SET status = 'published', published_at_ms = $2 WHERE id = $1 AND status = 'draft'",
        )
        .bind(show)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Published shows matching `filter`, newest first (from the read replica).
    pub async fn published_shows(
        &self,
        filter: &ShowFilter<'_>,
    ) -> Result<Vec<ShowSummary>, sqlx::Error> {
        let mut sql = String::from(
            "SELECT id, title, category, region FROM shows s WHERE status = 'published'",
        );
        let texts: Vec<(&str, &str)> = [
            ("category = ", filter.category),
            ("region = ", filter.region),
            ("LOWER(title) LIKE ", filter.title_like),
        ]
        .into_iter()
        .filter_map(|(clause, value)| value.map(|v| (clause, v)))
        .collect();
        // Parameters are numbered in the order they are bound: texts first, then numbers.
        let mut numbers: Vec<i64> = Vec::new();
        let mut n = 0;
        for (clause, _) in &texts {
            n += 1;
            sql.push_str(&format!(" AND {clause}${n}"));
            if clause.contains("LIKE") {
                // The same escape character on PostgreSQL and SQLite (SQLite has none unless
                // told); the caller escapes `%`, `_` and `\` with it.
                sql.push_str(" ESCAPE '\\'");
            }
        }
        if let Some(before) = filter.before {
            numbers.push(before);
            n += 1;
            sql.push_str(&format!(" AND id < ${n}"));
        }
        if let Some((from_ms, to_ms)) = filter.starts_within_ms {
            numbers.push(from_ms);
            numbers.push(to_ms);
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM performances p WHERE p.show_id = s.id AND p.starts_at_ms >= ${} AND p.starts_at_ms <= ${})",
                n + 1,
                n + 2
            ));
            n += 2;
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", n + 1));
        // Audited: `sql` is built from the constant fragments above and `$n` numbers only; every
        // value the client sent is bound as a parameter.
        let mut statement = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for (_, text) in &texts {
            statement = statement.bind(text.to_string());
        }
        for number in &numbers {
            statement = statement.bind(*number);
        }
        statement.bind(filter.rows).fetch_all(self.reader()).await
    }

    /// Up to `rows` performances of published shows whose sale has not closed by `now_ms`,
    /// soonest open first, with their show and company: the platform's sales on now or coming.
    pub async fn sales_on_now(
        &self,
        now_ms: i64,
        rows: i64,
    ) -> Result<Vec<SaleOnNow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT p.id AS performance, p.starts_at_ms, p.sale_open_at_ms, p.sale_close_at_ms, \
             s.id AS show_id, s.title, s.grades, c.id AS company_id, c.name AS company, \
             (SELECT COUNT(*) FROM bookings b WHERE b.performance = p.id) AS bookings \
             FROM performances p JOIN shows s ON s.id = p.show_id \
             JOIN companies c ON c.id = s.company_id \
             WHERE s.status = 'published' AND p.sale_close_at_ms > $1 \
             ORDER BY p.sale_open_at_ms, p.id LIMIT $2",
        )
        .bind(now_ms)
        .bind(rows)
        .fetch_all(self.reader())
        .await
    }

    /// The show a performance belongs to.
    pub async fn performance_show(&self, performance: i64) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT show_id FROM performances WHERE id = $1")
            .bind(performance)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn performance_count(&self, show: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM performances WHERE show_id = $1")
            .bind(show)
            .fetch_one(&self.pool)
            .await
    }

    pub async fn insert_performance(
        &self,
        performance: &PerformanceRow,
        show: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO performances (id, show_id, starts_at_ms, sale_open_at_ms, sale_close_at_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(performance.id)
        .bind(show)
        .bind(performance.starts_at_ms)
        .bind(performance.sale_open_at_ms)
        .bind(performance.sale_close_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The show's performances by start; from the read replica when `stale_ok`.
    pub async fn performances(
        &self,
        show: i64,
        stale_ok: bool,
    ) -> Result<Vec<PerformanceRow>, sqlx::Error> {
        let pool = if stale_ok { self.reader() } else { &self.pool };
        sqlx::query_as(
            "SELECT id, starts_at_ms, sale_open_at_ms, sale_close_at_ms FROM performances \
             WHERE show_id = $1 ORDER BY starts_at_ms",
        )
        .bind(show)
        .fetch_all(pool)
        .await
    }

    /// Keeps the spec a performance was opened in the ledger with (JSON).
    pub async fn set_performance_spec(
        &self,
        performance: i64,
        spec: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE performances SET spec = $2 WHERE id = $1")
            .bind(performance)
            .bind(spec)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A published performance's spec (JSON), if it is published.
    pub async fn performance_spec(&self, performance: i64) -> Result<Option<String>, sqlx::Error> {
        let row: Option<SpecRow> = sqlx::query_as("SELECT spec FROM performances WHERE id = $1")
            .bind(performance)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|row| row.spec))
    }

    /// Every published performance's spec (JSON).
    pub async fn published_specs(&self) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<SpecRow> =
            sqlx::query_as("SELECT spec FROM performances WHERE spec IS NOT NULL")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().filter_map(|row| row.spec).collect())
    }

    /// Lets a staff account scan the show's tickets (again: no change).
    pub async fn assign_staff(&self, show: i64, account: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO show_staff (show_id, account_id) VALUES ($1, $2) \
             ON CONFLICT (show_id, account_id) DO NOTHING",
        )
        .bind(show)
        .bind(account)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The shows a staff account may scan.
    pub async fn staff_shows(&self, account: i64) -> Result<Vec<StaffShow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT s.id, s.title FROM show_staff a JOIN shows s ON s.id = a.show_id \
             WHERE a.account_id = $1 ORDER BY s.id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await
    }
}
