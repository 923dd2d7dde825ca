//! The sender's staff: users of the web application and their sessions.
//!
//! A user belongs to one tenant and has one role. Their e-mail address is personal data,
//! so the row keeps only a keyed blind index of it (computed by the service, which holds
//! the key): the sign-in form looks the typed address up by that index. Passwords are
//! Argon2id PHC strings; session IDs are 256-bit random values stored as their SHA-256.
//! A session carries its own synchronizer token and the role it was opened with, and is
//! only valid while its user is not disabled.

use crate::{Store, StoreError};
use consentry_core::consent::Role;
use consentry_core::ids::{TenantId, UserId};

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// A staff user.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Their ID.
    pub id: UserId,
    /// Their tenant.
    pub tenant: TenantId,
    /// What they may do.
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Created, Unix milliseconds.
    pub created_at: i64,
    /// Disabled, Unix milliseconds.
    pub disabled_at: Option<i64>,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A live staff session.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffSessionRow {
    /// The user.
    pub user: UserId,
    /// The user's tenant.
    pub tenant: TenantId,
    /// The tenant's name (read with the session: every page shows it).
    pub tenant_name: String,
    /// The role it was opened with.
    pub role: Role,
    /// The synchronizer token every form must send back.
    pub csrf: String,
    /// When it ends, Unix milliseconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for StaffSessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffSessionRow")
            .field("user", &self.user)
            .field("tenant", &self.tenant)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

fn parse_role(stored: &str) -> Result<Role, StoreError> {
    Role::parse(stored).ok_or_else(|| corrupt(format!("staff role {stored:?}")))
}

type UserTuple = (String, String, String, String, i64, Option<i64>);

fn user(row: UserTuple) -> Result<UserRow, StoreError> {
    let (id, tenant, role, password_hash, created_at, disabled_at) = row;
    Ok(UserRow {
        id: UserId::parse(&id).map_err(corrupt)?,
        tenant: TenantId::parse(&tenant).map_err(corrupt)?,
        role: parse_role(&role)?,
        password_hash,
        created_at,
        disabled_at,
    })
}

/// Where a password reset link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetState {
    /// Unused, unexpired, the user's newest, and the user is enabled.
    Valid,
    /// Already used for a reset.
    Used,
    /// A newer link was asked for, or another link reset the password.
    Replaced,
    /// Past its expiry.
    Expired,
    /// Its user has been disabled since.
    Disabled,
}

impl Store {
    /// Stores a password reset link (by its token's hash) for `user`, valid until
    /// `expires_at`: the user's older unused links are replaced by it, and links that
    /// expired before `now` are deleted.
    pub async fn insert_password_reset(
        &self,
        token_hash: &[u8; 32],
        user: &UserId,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM staff_password_resets WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE staff_password_resets SET replaced_at = $1 \
             WHERE user_id = $2 AND used_at IS NULL AND replaced_at IS NULL",
        )
        .bind(now)
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO staff_password_resets (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash.to_vec())
        .bind(user.as_str())
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The state of a password reset link, without using it; `None` if there is no such
    /// link.
    pub async fn password_reset_state(
        &self,
        token_hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<ResetState>, StoreError> {
        // (expires_at, used_at, replaced_at, the user's disabled_at)
        type ResetRow = (i64, Option<i64>, Option<i64>, Option<i64>);
        let row: Option<ResetRow> = sqlx::query_as(
            "SELECT r.expires_at, r.used_at, r.replaced_at, u.disabled_at \
             FROM staff_password_resets r JOIN users u ON u.id = r.user_id \
             WHERE r.token_hash = $1",
        )
        .bind(token_hash.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(expires_at, used_at, replaced_at, disabled_at)| {
            if used_at.is_some() {
                ResetState::Used
            } else if replaced_at.is_some() {
                ResetState::Replaced
            } else if expires_at <= now {
                ResetState::Expired
            } else if disabled_at.is_some() {
                ResetState::Disabled
            } else {
                ResetState::Valid
            }
        }))
    }

    /// Uses a password reset link, in one transaction: the link must be valid (see
    /// [`ResetState::Valid`]); it is marked used, the user's other links replaced, the
    /// password hash replaced and every session of the user ended. Returns the user and
    /// how many sessions were ended, or why the link reset nothing (`None`: no such link).
    pub async fn use_password_reset(
        &self,
        token_hash: &[u8; 32],
        password_hash: &str,
        now: i64,
    ) -> Result<Result<(UserId, u64), Option<ResetState>>, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let used = sqlx::query(
            "UPDATE staff_password_resets SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND replaced_at IS NULL AND expires_at > $1 \
             AND user_id IN (SELECT id FROM users WHERE disabled_at IS NULL)",
        )
        .bind(now)
        .bind(token_hash.to_vec())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(Err(self.password_reset_state(token_hash, now).await?));
        }
        let (user,): (String,) =
            sqlx::query_as("SELECT user_id FROM staff_password_resets WHERE token_hash = $1")
                .bind(token_hash.to_vec())
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query(
            "UPDATE staff_password_resets SET replaced_at = $1 \
             WHERE user_id = $2 AND used_at IS NULL AND replaced_at IS NULL",
        )
        .bind(now)
        .bind(&user)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(&user)
            .execute(&mut *tx)
            .await?;
        let ended = sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1")
            .bind(&user)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(Ok((UserId::parse(&user).map_err(corrupt)?, ended)))
    }

    /// Adds a user; `false` (and nothing written) if the login index is taken in the
    /// user's tenant. The same address may be staff in several tenants: a user is
    /// (tenant, login index), so adding one never depends on other tenants' users.
    pub async fn insert_user(
        &self,
        user: &UserRow,
        login_index: &[u8; 32],
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "INSERT INTO users (id, tenant_id, login_index, role, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, login_index) DO NOTHING",
        )
        .bind(user.id.as_str())
        .bind(user.tenant.as_str())
        .bind(login_index.to_vec())
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(user.created_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The user of `tenant` whose login index is `login_index`, disabled or not.
    pub async fn user_by_login(
        &self,
        tenant: &TenantId,
        login_index: &[u8; 32],
    ) -> Result<Option<UserRow>, StoreError> {
        let row: Option<UserTuple> = sqlx::query_as(
            "SELECT id, tenant_id, role, password_hash, created_at, disabled_at FROM users \
             WHERE tenant_id = $1 AND login_index = $2",
        )
        .bind(tenant.as_str())
        .bind(login_index.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        row.map(user).transpose()
    }

    /// A tenant's users, oldest first.
    pub async fn users(&self, tenant: &TenantId) -> Result<Vec<UserRow>, StoreError> {
        let rows: Vec<UserTuple> = sqlx::query_as(
            "SELECT id, tenant_id, role, password_hash, created_at, disabled_at FROM users \
             WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(user).collect()
    }

    /// Disables a user of `tenant` and ends their sessions; `false` if there is no such
    /// user in that tenant.
    pub async fn disable_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        now: i64,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2 AND tenant_id = $3",
        )
        .bind(now)
        .bind(id.as_str())
        .bind(tenant.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            // Not this tenant's user: another tenant's sessions are none of its business.
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1 AND tenant_id = $2")
            .bind(id.as_str())
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces a user's password hash and ends their sessions.
    pub async fn set_user_password(
        &self,
        id: &UserId,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Opens a session for `user` (deleting sessions that expired before `now`).
    pub async fn insert_staff_session(
        &self,
        id_hash: &[u8; 32],
        user: &UserRow,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM staff_sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO staff_sessions (id_hash, user_id, tenant_id, role, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id_hash.to_vec())
        .bind(user.id.as_str())
        .bind(user.tenant.as_str())
        .bind(user.role.as_str())
        .bind(csrf)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The unexpired session whose ID hashes to `id_hash`, if its user is not disabled.
    pub async fn staff_session(
        &self,
        id_hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<StaffSessionRow>, StoreError> {
        let row: Option<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT s.user_id, s.tenant_id, t.name, s.role, s.csrf, s.expires_at FROM staff_sessions s \
             JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(id_hash.to_vec())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(user, tenant, tenant_name, role, csrf, expires_at)| {
            Ok(StaffSessionRow {
                user: UserId::parse(&user).map_err(corrupt)?,
                tenant: TenantId::parse(&tenant).map_err(corrupt)?,
                tenant_name,
                role: parse_role(&role)?,
                csrf,
                expires_at,
            })
        })
        .transpose()
    }

    /// Ends a session.
    pub async fn delete_staff_session(&self, id_hash: &[u8; 32]) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM staff_sessions WHERE id_hash = $1")
            .bind(id_hash.to_vec())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store_with_tenant() -> (Store, TenantId, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let store = Store::open(&url).await.unwrap();
        let tenant = TenantId::parse("ten_a1").unwrap();
        store.create_tenant(&tenant, "Acme", 1).await.unwrap();
        (store, tenant, dir)
    }

    fn row(tenant: &TenantId, id: &str) -> UserRow {
        UserRow {
            id: UserId::parse(id).unwrap(),
            tenant: tenant.clone(),
            role: Role::Operator,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            created_at: 5,
            disabled_at: None,
        }
    }

    #[tokio::test]
    async fn one_address_may_be_staff_in_several_tenants_each_its_own_user() {
        let (store, tenant, _dir) = store_with_tenant().await;
        let other = TenantId::parse("ten_b2").unwrap();
        store.create_tenant(&other, "Other", 1).await.unwrap();
        let a = row(&tenant, "usr_1");
        let b = row(&other, "usr_2");
        assert!(store.insert_user(&a, &[7; 32]).await.unwrap());
        assert!(store.insert_user(&b, &[7; 32]).await.unwrap());
        // Still unique within a tenant.
        assert!(
            !store
                .insert_user(&row(&other, "usr_3"), &[7; 32])
                .await
                .unwrap()
        );
        assert_eq!(
            store.user_by_login(&tenant, &[7; 32]).await.unwrap(),
            Some(a)
        );
        assert_eq!(
            store.user_by_login(&other, &[7; 32]).await.unwrap(),
            Some(b)
        );
        let third = TenantId::parse("ten_c3").unwrap();
        assert_eq!(store.user_by_login(&third, &[7; 32]).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_login_index_names_one_user_and_disabling_ends_sessions() {
        let (store, tenant, _dir) = store_with_tenant().await;
        let u = row(&tenant, "usr_1");
        assert!(store.insert_user(&u, &[7; 32]).await.unwrap());
        assert!(
            !store
                .insert_user(&row(&tenant, "usr_2"), &[7; 32])
                .await
                .unwrap()
        );
        assert_eq!(
            store.user_by_login(&tenant, &[7; 32]).await.unwrap(),
            Some(u.clone())
        );
        assert_eq!(store.user_by_login(&tenant, &[8; 32]).await.unwrap(), None);
        store
            .insert_staff_session(&[1; 32], &u, "tok", 10, 100)
            .await
            .unwrap();
        let s = store.staff_session(&[1; 32], 50).await.unwrap().unwrap();
        assert_eq!(
            (
                s.user,
                s.tenant_name.as_str(),
                s.role.as_str(),
                s.csrf.as_str()
            ),
            (u.id.clone(), "Acme", "operator", "tok")
        );
        assert_eq!(store.staff_session(&[1; 32], 100).await.unwrap(), None);
        assert!(store.disable_user(&tenant, &u.id, 60).await.unwrap());
        assert_eq!(store.staff_session(&[1; 32], 50).await.unwrap(), None);
        // Another tenant's admin can neither disable the user nor end their sessions.
        let v = row(&tenant, "usr_3");
        assert!(store.insert_user(&v, &[9; 32]).await.unwrap());
        store
            .insert_staff_session(&[2; 32], &v, "tok", 10, 100)
            .await
            .unwrap();
        let other = TenantId::parse("ten_b2").unwrap();
        assert!(!store.disable_user(&other, &u.id, 60).await.unwrap());
        assert!(!store.disable_user(&other, &v.id, 60).await.unwrap());
        assert!(store.staff_session(&[2; 32], 50).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_reset_link_works_once_until_it_expires_or_a_newer_one_is_asked() {
        let (store, tenant, _dir) = store_with_tenant().await;
        let u = row(&tenant, "usr_1");
        assert!(store.insert_user(&u, &[7; 32]).await.unwrap());
        store
            .insert_staff_session(&[1; 32], &u, "tok", 10, 10_000)
            .await
            .unwrap();
        store
            .insert_staff_session(&[2; 32], &u, "tok", 10, 10_000)
            .await
            .unwrap();
        store
            .insert_password_reset(&[3; 32], &u.id, 100, 1_000)
            .await
            .unwrap();
        assert_eq!(
            store.password_reset_state(&[3; 32], 500).await.unwrap(),
            Some(ResetState::Valid)
        );
        assert_eq!(
            store.password_reset_state(&[3; 32], 1_000).await.unwrap(),
            Some(ResetState::Expired)
        );
        assert_eq!(
            store.password_reset_state(&[9; 32], 500).await.unwrap(),
            None
        );
        // Expired: nothing changes.
        assert_eq!(
            store
                .use_password_reset(&[3; 32], "new", 1_000)
                .await
                .unwrap(),
            Err(Some(ResetState::Expired))
        );
        // A newer link replaces it.
        store
            .insert_password_reset(&[4; 32], &u.id, 200, 1_200)
            .await
            .unwrap();
        assert_eq!(
            store
                .use_password_reset(&[3; 32], "new", 300)
                .await
                .unwrap(),
            Err(Some(ResetState::Replaced))
        );
        assert_eq!(
            store
                .user_by_login(&tenant, &[7; 32])
                .await
                .unwrap()
                .unwrap()
                .password_hash,
            u.password_hash,
            "a refused link changes nothing"
        );
        // The newest works once: the password is replaced and both sessions end.
        assert_eq!(
            store
                .use_password_reset(&[4; 32], "new", 300)
                .await
                .unwrap(),
            Ok((u.id.clone(), 2))
        );
        assert_eq!(
            store
                .user_by_login(&tenant, &[7; 32])
                .await
                .unwrap()
                .unwrap()
                .password_hash,
            "new"
        );
        assert_eq!(store.staff_session(&[1; 32], 400).await.unwrap(), None);
        assert_eq!(
            store
                .use_password_reset(&[4; 32], "again", 400)
                .await
                .unwrap(),
            Err(Some(ResetState::Used))
        );
        // A disabled user's link resets nothing.
        store
            .insert_password_reset(&[5; 32], &u.id, 500, 5_000)
            .await
            .unwrap();
        assert!(store.disable_user(&tenant, &u.id, 600).await.unwrap());
        assert_eq!(
            store.use_password_reset(&[5; 32], "x", 700).await.unwrap(),
            Err(Some(ResetState::Disabled))
        );
    }
}
