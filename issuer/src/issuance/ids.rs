//! Drawing free 证照标识: year + 10 random digits, version 001, correct check character, and
//! no licence of the database holding it already.

use std::collections::HashSet;

use huren_crypto::ids::LicenceId;
use huren_crypto::licence::{FieldError, Licence};
use rand_core::{OsRng, RngCore};
use sqlx::AnyConnection;

use super::IssueError;
use crate::store::{licences, StoreError};

/// Draws of an unused 证照标识 serial before issuance gives up (10^10 serials per type,
/// authority and year: a collision is already unlikely once).
const ID_ROUNDS: usize = 8;

/// A 证照标识 for `licence` with a fresh serial: year + 10 random digits, version 001, correct
/// check character. Whether it is free is for the caller to check.
pub(super) fn draw_licence_id(licence: &Licence) -> Result<LicenceId, IssueError> {
    let serial = format!(
        "{:04}{:010}",
        licence.issued_on.0.year(),
        OsRng.next_u64() % 10_000_000_000
    );
    LicenceId::generate(&licence.type_code, &licence.issuer.code, &serial, "001").map_err(|e| {
        IssueError::Invalid(vec![FieldError {
            field: "issuer.code".into(),
            message: format!("cannot form the 证照标识: {e}"),
        }])
    })
}

/// A fresh 证照标识 for `licence`, regenerated in the (astronomically unlikely) case it exists.
pub(super) async fn new_licence_id(
    conn: &mut AnyConnection,
    licence: &Licence,
) -> Result<LicenceId, IssueError> {
    for _ in 0..ID_ROUNDS {
        let jti = draw_licence_id(licence)?;
        let taken = licences::taken_ids(conn, &[jti.to_string()]).await?;
        if taken.is_empty() {
            return Ok(jti);
        }
    }
    Err(no_free_licence_id())
}

fn no_free_licence_id() -> IssueError {
    IssueError::Store(StoreError::Row("could not find a free 证照标识".into()))
}

/// Makes the drawn 证照标识 of a chunk's items free: distinct from each other (in memory) and
/// from every stored licence (one query per round); only the colliding ones are drawn again.
/// Runs under the audit lock, so nobody stores a licence between the check and the `INSERT`.
///
/// Not confined to the region, on purpose ([`licences::taken_ids`]).
pub(super) async fn make_free(
    conn: &mut AnyConnection,
    drawn: &mut [(&Licence, &mut LicenceId)],
) -> Result<(), IssueError> {
    let mut seen = HashSet::with_capacity(drawn.len());
    for (licence, id) in drawn.iter_mut() {
        redraw_while_seen(licence, id, &mut seen)?;
    }
    let mut unchecked: Vec<usize> = (0..drawn.len()).collect();
    for _ in 0..ID_ROUNDS {
        if unchecked.is_empty() {
            return Ok(());
        }
        let candidates: Vec<String> = unchecked.iter().map(|&n| drawn[n].1.to_string()).collect();
        let taken = licences::taken_ids(conn, &candidates).await?;
        let mut colliding = Vec::new();
        for (n, candidate) in unchecked.into_iter().zip(&candidates) {
            if taken.contains(candidate) {
                let (licence, id) = &mut drawn[n];
                **id = draw_licence_id(licence)?;
                redraw_while_seen(licence, id, &mut seen)?;
                colliding.push(n);
            }
        }
        unchecked = colliding;
    }
    if unchecked.is_empty() {
        Ok(())
    } else {
        Err(no_free_licence_id())
    }
}

/// Redraws `id` until no other item of the chunk has it, and marks it seen.
fn redraw_while_seen(
    licence: &Licence,
    id: &mut LicenceId,
    seen: &mut HashSet<String>,
) -> Result<(), IssueError> {
    for _ in 0..ID_ROUNDS {
        if seen.insert(id.to_string()) {
            return Ok(());
        }
        *id = draw_licence_id(licence)?;
    }
    Err(no_free_licence_id())
}
