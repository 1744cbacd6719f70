-- Where the notifier is in a published show's interest alerts (issue 15's fan-out): the last
-- member (account id) whose alert is written. Moved in the transaction that writes each batch
-- of alerts, so a notifier stopped in the middle of a show matching a million members resumes
-- after the last batch it committed instead of walking every member again. Dropped when the
-- show goes into `notifier_announced`.
CREATE TABLE IF NOT EXISTS notifier_announcing (
    show_id        BIGINT PRIMARY KEY,
    after_account  BIGINT NOT NULL
);
