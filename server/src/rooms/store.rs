//! [`RoomStore`] over PostgreSQL: the launch-room pages' data, for their viewer.

use std::collections::BTreeMap;

use http::request::Parts;
use sqlx::PgPool;
use tower_sessions::Session;

use app::domain::access::Viewer;
use app::domain::chain_page::{PageRequest, ROOM_PAGE_RECORDS};
use app::domain::Register;
use app::live::{LiveClearance, StoreFuture};
use app::page_data::room_actions::RoomAction;
use app::page_data::rooms::{
    AcceptanceDraft, AcceptanceEntry, ActFuture, RoomPages, RoomStore, RoomSummary, RoomView,
    RoomsView, DRAFT_KEY,
};
use app::page_data::ClearanceError;

use super::{load_all, load_page, RoomPage};
use crate::auth::audit::{self, Action};
use crate::auth::ClientAddr;

#[derive(Clone)]
pub struct PgRoomStore {
    pub pool: PgPool,
    pub clearance: LiveClearance,
}

fn motions(register: &Register) -> Vec<(String, String)> {
    register
        .motions
        .iter()
        .map(|motion| (motion.id.clone(), motion.name.clone()))
        .collect()
}

fn motion_name(register: &Register, id: &str) -> Option<String> {
    register.motion(id).map(|motion| motion.name.clone())
}

async fn denied(pool: &PgPool, viewer: &Viewer, what: &str, parts: &Parts) {
    audit::record_by(
        pool,
        viewer,
        Action::AccessDenied,
        what,
        &ClientAddr::of(parts),
    )
    .await;
}

impl PgRoomStore {
    fn view(&self, room: RoomPage, viewer: &Viewer, draft: Option<AcceptanceDraft>) -> RoomView {
        let register = &self.clearance.register;
        let live = self.clearance.current();
        let RoomPage {
            head,
            acceptances,
            evidence,
        } = room;
        let status = head.status(register, &live.readiness.inputs);
        let mut blocker_titles = BTreeMap::new();
        let named = status.scopable.iter().chain(&status.open_blockers).chain(
            head.latest
                .iter()
                .chain(&acceptances.records)
                .flat_map(|record| record.exclusions.iter().chain(&record.open_blockers)),
        );
        for id in named {
            if let Some(blocker) = register.blocker(id) {
                blocker_titles.insert(id.clone(), blocker.title.clone());
            }
        }
        let tenant = head.tenant;
        let can_sign = viewer.signs_for(tenant.id);
        RoomView {
            motion_name: motion_name(register, &tenant.motion),
            status,
            gates: register.customer_evidence.gates.clone(),
            motions: motions(register),
            blocker_titles,
            evidence_log: evidence,
            latest: head.latest.as_ref().map(AcceptanceEntry::from),
            acceptances: acceptances.map(|record| AcceptanceEntry::from(&record)),
            can_change: viewer.is_operator(),
            can_sign,
            draft: draft.filter(|draft| can_sign && draft.slug == tenant.slug),
            tenant,
        }
    }

    async fn all(
        &self,
        parts: &Parts,
        viewer: &Viewer,
    ) -> Result<Result<RoomsView, ClearanceError>, sqlx::Error> {
        if matches!(viewer, Viewer::Public) {
            denied(&self.pool, viewer, "/rooms", parts).await;
            return Ok(Err(ClearanceError::SignInRequired));
        }
        let register = &self.clearance.register;
        let live = self.clearance.current();
        let rooms = load_all(&self.pool, viewer)
            .await?
            .into_iter()
            .map(|room| {
                let status = room.status(register, &live.readiness.inputs);
                RoomSummary {
                    motion_name: motion_name(register, &room.tenant.motion),
                    slug: room.tenant.slug,
                    name: room.tenant.name,
                    billing_route: room.tenant.billing_route,
                    state: status.state,
                    motion_status: status.motion.as_ref().map(|motion| motion.status),
                    live: status.is_live(),
                }
            })
            .collect();
        Ok(Ok(RoomsView {
            rooms,
            can_create: viewer.is_operator(),
            motions: motions(register),
        }))
    }

    async fn one(
        &self,
        parts: &Parts,
        viewer: &Viewer,
        slug: &str,
        pages: RoomPages,
    ) -> Result<Result<RoomView, ClearanceError>, sqlx::Error> {
        if matches!(viewer, Viewer::Public) {
            denied(&self.pool, viewer, &format!("/rooms/{slug}"), parts).await;
            return Ok(Err(ClearanceError::SignInRequired));
        }
        let acceptances = PageRequest {
            limit: ROOM_PAGE_RECORDS,
            before: pages.before,
        };
        let evidence = PageRequest {
            limit: ROOM_PAGE_RECORDS,
            before: pages.evidence_before,
        };
        let Some(room) = load_page(&self.pool, viewer, slug, acceptances, Some(evidence)).await?
        else {
            denied(&self.pool, viewer, &format!("/rooms/{slug}"), parts).await;
            return Ok(Err(ClearanceError::NotFound));
        };
        let draft = match parts.extensions.get::<Session>() {
            Some(session) => session
                .get::<AcceptanceDraft>(DRAFT_KEY)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        Ok(Ok(self.view(room, viewer, draft)))
    }
}

impl RoomStore for PgRoomStore {
    fn act<'a>(
        &'a self,
        parts: &'a Parts,
        viewer: &'a Viewer,
        action: RoomAction,
    ) -> ActFuture<'a> {
        Box::pin(super::actions::act(self, parts, viewer, action))
    }

    fn rooms<'a>(
        &'a self,
        parts: &'a Parts,
        viewer: &'a Viewer,
    ) -> StoreFuture<'a, Result<RoomsView, ClearanceError>> {
        Box::pin(async move {
            self.all(parts, viewer)
                .await
                .map_err(crate::refusal::unavailable(parts))
        })
    }

    fn room<'a>(
        &'a self,
        parts: &'a Parts,
        viewer: &'a Viewer,
        slug: &'a str,
        pages: RoomPages,
    ) -> StoreFuture<'a, Result<RoomView, ClearanceError>> {
        Box::pin(async move {
            self.one(parts, viewer, slug, pages)
                .await
                .map_err(crate::refusal::unavailable(parts))
        })
    }
}
