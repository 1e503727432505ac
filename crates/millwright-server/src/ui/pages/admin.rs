//! Admin (admin role): API tokens — create (the secret shown once), revoke — and the audit log of every
//! change, paged.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use crate::store::Role;
use crate::ui::i18n::{common, role_name, time, Lang};
use crate::ui::layout::{self, Section};
use crate::ui::session::Ctx;
use crate::AppState;

struct Text {
    title: &'static str,
    tokens: &'static str,
    new_token: &'static str,
    role: &'static str,
    create: &'static str,
    secret_once: &'static str,
    revoke: &'static str,
    revoke_confirm: &'static str,
    revoked: &'static str,
    active: &'static str,
    audit: &'static str,
    when: &'static str,
    request: &'static str,
    status: &'static str,
    older: &'static str,
    name_hint: &'static str,
}

const EN: Text = Text {
    title: "Admin",
    tokens: "API tokens",
    new_token: "New token",
    role: "Role",
    create: "Create",
    secret_once: "The new token (shown only now; copy it somewhere safe):",
    revoke: "Revoke",
    revoke_confirm: "Revoke this token? Requests and sessions using it are refused at once.",
    revoked: "revoked",
    active: "active",
    audit: "Audit log",
    when: "When",
    request: "Request",
    status: "Status",
    older: "Older entries",
    name_hint: "Letters, digits, _ and -.",
};

const ZH: Text = Text {
    title: "管理",
    tokens: "访问令牌",
    new_token: "新建令牌",
    role: "角色",
    create: "创建",
    secret_once: "新令牌（仅显示这一次，请妥善保存）：",
    revoke: "吊销",
    revoke_confirm: "确定吊销此令牌？使用它的请求和会话将立即被拒绝。",
    revoked: "已吊销",
    active: "有效",
    audit: "审计日志",
    when: "时间",
    request: "请求",
    status: "状态码",
    older: "更早的记录",
    name_hint: "字母、数字、下划线和连字符。",
};

fn text(lang: Lang) -> &'static Text {
    lang.pick(&EN, &ZH)
}

#[derive(Deserialize)]
pub struct AuditPage {
    before: Option<i64>,
}

const AUDIT_PAGE: u32 = 50;

pub async fn page(State(state): State<AppState>, ctx: Ctx, Query(q): Query<AuditPage>) -> Response {
    if let Err(refused) = ctx.require(Role::Admin) {
        return refused;
    }
    let tokens = match state.store.list_tokens() {
        Ok(t) => t,
        Err(e) => return super::failure(&ctx, e),
    };
    let audit = match state.store.audit_list(AUDIT_PAGE, q.before) {
        Ok(a) => a,
        Err(e) => return super::failure(&ctx, e),
    };
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let older = (audit.len() == AUDIT_PAGE as usize)
        .then(|| audit.last().map(|a| a.id))
        .flatten();
    let body = html! {
        h1 { (t.title) }
        section aria-labelledby="tokens" {
            h2 #tokens { (t.tokens) }
            div .scroll { table {
                thead { tr { th { (c.name) } th { (t.role) } th { (c.created) } th { (c.state) } th {} } }
                tbody {
                    @for token in &tokens {
                        tr {
                            td translate="no" { (token.name) }
                            td { (role_name(ctx.lang, token.role)) }
                            td { (time(ctx.lang, token.created)) }
                            td { @if token.revoked.is_some() { (t.revoked) } @else { (t.active) } }
                            td {
                                @if token.revoked.is_none() && token.name != ctx.token.name {
                                    button .danger type="button" data-api={ "/api/v1/tokens/" (token.name) }
                                        data-method="DELETE" data-confirm=(t.revoke_confirm) data-then="reload" { (t.revoke) }
                                    output {}
                                }
                            }
                        }
                    }
                }
            } }
            h3 { (t.new_token) }
            form .toolbar data-api="/api/v1/tokens" data-then="show:new-secret" {
                div .stack {
                    label for="token-name" { (c.name) }
                    input #token-name type="text" name="name" required pattern="[A-Za-z0-9_\\-]+" aria-describedby="token-name-hint";
                    p #token-name-hint .hint { (t.name_hint) }
                }
                div .stack {
                    label for="token-role" { (t.role) }
                    select #token-role name="role" {
                        @for role in [Role::Viewer, Role::Operator, Role::Admin] {
                            option value=(role.as_str()) { (role_name(ctx.lang, role)) }
                        }
                    }
                }
                button type="submit" { (t.create) }
                output {}
            }
            div #new-secret hidden role="status" {
                p { (t.secret_once) }
                pre translate="no" data-slot {}
            }
        }
        section aria-labelledby="audit" {
            h2 #audit { (t.audit) }
            div .scroll { table {
                thead { tr { th { (t.when) } th { (c.by) } th { (t.request) } th .num { (t.status) } } }
                tbody {
                    @for entry in &audit {
                        tr {
                            td { (time(ctx.lang, entry.time)) }
                            td translate="no" { (entry.token) }
                            td translate="no" { code { (entry.method) " " (entry.target) } }
                            td .num { (entry.status) }
                        }
                    }
                }
            } }
            @if let Some(before) = older { p { a href={ "/ui/admin?before=" (before) } { (t.older) } } }
        }
    };
    layout::page(&ctx, Section::Admin, t.title, body)
}
