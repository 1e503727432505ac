//! The dashboard's two languages. Every label is a field of a catalog struct with one `const` per
//! language, so a label missing in one language is a compile error, not a blank on a page. Page modules
//! keep their own catalogs beside their markup; this one holds what every page shares, and the number
//! and time formats.

use chrono::{DateTime, Utc};

/// A dashboard language; remembered in a cookie, English when none is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The `lang` attribute of the page.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The language's own name, shown on the switch.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "中文",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "zh" | "zh-CN" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// Picks between two translations.
    pub fn pick<T: ?Sized>(self, en: &'static T, zh: &'static T) -> &'static T {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

/// What every page shows: navigation, sign-in, roles, common words.
pub struct Common {
    pub product: &'static str,
    pub overview: &'static str,
    pub data: &'static str,
    pub models: &'static str,
    pub train: &'static str,
    pub twin: &'static str,
    pub business: &'static str,
    pub admin: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub token: &'static str,
    pub token_hint: &'static str,
    pub token_refused: &'static str,
    pub signed_in_as: &'static str,
    pub viewer: &'static str,
    pub operator: &'static str,
    pub administrator: &'static str,
    pub language: &'static str,
    pub none_yet: &'static str,
    pub not_found: &'static str,
    pub forbidden: &'static str,
    pub failed: &'static str,
    pub back: &'static str,
    pub working: &'static str,
    pub done: &'static str,
    pub cancel: &'static str,
    pub name: &'static str,
    pub version: &'static str,
    pub rows: &'static str,
    pub columns: &'static str,
    pub size: &'static str,
    pub created: &'static str,
    pub state: &'static str,
    pub kind: &'static str,
    pub started: &'static str,
    pub finished: &'static str,
    pub by: &'static str,
    pub open: &'static str,
    pub live_reconnecting: &'static str,
    pub skip_to_content: &'static str,
    pub main_navigation: &'static str,
}

const COMMON_EN: Common = Common {
    product: "Millwright",
    overview: "Overview",
    data: "Data",
    models: "Models and runs",
    train: "Train",
    twin: "Twin",
    business: "Business case",
    admin: "Admin",
    sign_in: "Sign in",
    sign_out: "Sign out",
    token: "API token",
    token_hint:
        "Paste a token from `millwright token create` or the one `millwright serve` printed.",
    token_refused: "That token is unknown or revoked.",
    signed_in_as: "Signed in as",
    viewer: "viewer",
    operator: "operator",
    administrator: "admin",
    language: "Language",
    none_yet: "Nothing here yet.",
    not_found: "Not found",
    forbidden: "Your role may not do this.",
    failed: "Failed",
    back: "Back",
    working: "Working…",
    done: "Done",
    cancel: "Cancel",
    name: "Name",
    version: "Version",
    rows: "Rows",
    columns: "Columns",
    size: "Size",
    created: "Created",
    state: "State",
    kind: "Kind",
    started: "Started",
    finished: "Finished",
    by: "By",
    open: "Open",
    live_reconnecting: "Live updates interrupted; reconnecting…",
    skip_to_content: "Skip to content",
    main_navigation: "Main navigation",
};

const COMMON_ZH: Common = Common {
    product: "智造",
    overview: "概览",
    data: "数据",
    models: "模型与运行",
    train: "训练",
    twin: "数字孪生",
    business: "业务案例",
    admin: "管理",
    sign_in: "登录",
    sign_out: "退出",
    token: "访问令牌",
    token_hint: "粘贴由 `millwright token create` 创建的令牌，或 `millwright serve` 打印的令牌。",
    token_refused: "该令牌不存在或已被吊销。",
    signed_in_as: "当前用户",
    viewer: "查看者",
    operator: "操作员",
    administrator: "管理员",
    language: "语言",
    none_yet: "暂无内容。",
    not_found: "未找到",
    forbidden: "您的角色无权执行此操作。",
    failed: "失败",
    back: "返回",
    working: "处理中…",
    done: "完成",
    cancel: "取消",
    name: "名称",
    version: "版本",
    rows: "行数",
    columns: "列数",
    size: "大小",
    created: "创建时间",
    state: "状态",
    kind: "类型",
    started: "开始",
    finished: "结束",
    by: "发起者",
    open: "打开",
    live_reconnecting: "实时更新中断，正在重新连接…",
    skip_to_content: "跳到正文",
    main_navigation: "主导航",
};

pub fn common(lang: Lang) -> &'static Common {
    lang.pick(&COMMON_EN, &COMMON_ZH)
}

/// A role's name in the page's language.
pub fn role_name(lang: Lang, role: crate::Role) -> &'static str {
    let t = common(lang);
    match role {
        crate::Role::Viewer => t.viewer,
        crate::Role::Operator => t.operator,
        crate::Role::Admin => t.administrator,
    }
}

/// A number with thousands separators and `decimals` digits after the point (both languages group by
/// three with commas, as Chinese business documents do); NaN and infinities are written out.
pub fn number(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        return "—".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞" } else { "−∞" }.to_owned();
    }
    let text = format!("{:.*}", decimals, x.abs());
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), ""), |(i, f)| (i, f));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if x < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "−"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// A measured figure with as many decimals as it needs: whole numbers none, large ones one, small
/// ones four (metrics such as 0.9775).
pub fn figure(x: f64) -> String {
    let decimals = if x.fract() == 0.0 {
        0
    } else if x.abs() >= 100.0 {
        1
    } else {
        4
    };
    number(x, decimals)
}

pub fn integer(x: u64) -> String {
    number(x as f64, 0)
}

/// A share as a percentage (`0.1234` → `12.3 %` / `12.3%`).
pub fn percent(lang: Lang, share: f64, decimals: usize) -> String {
    match lang {
        Lang::En => format!("{} %", number(share * 100.0, decimals)),
        Lang::Zh => format!("{}%", number(share * 100.0, decimals)),
    }
}

/// Bytes in KB/MB/GB (decimal units).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if unit == 0 { 0 } else { 1 };
    format!("{} {}", number(value, decimals), UNITS[unit])
}

/// A moment, in UTC: `2026-12-01 20:38 UTC` / `2026年12月01日 20:38 UTC`.
pub fn time(lang: Lang, t: DateTime<Utc>) -> String {
    match lang {
        Lang::En => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        Lang::Zh => t.format("%Y年%m月%d日 %H:%M UTC").to_string(),
    }
}

/// How long ago, coarsely: `5 min ago` / `5 分钟前`.
pub fn age(lang: Lang, t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds().max(0);
    let (n, en, zh) = match secs {
        s if s < 60 => (s, "s", "秒"),
        s if s < 3600 => (s / 60, "min", "分钟"),
        s if s < 86_400 => (s / 3600, "h", "小时"),
        s => (s / 86_400, "d", "天"),
    };
    match lang {
        Lang::En => format!("{n} {en} ago"),
        Lang::Zh => format!("{n} {zh}前"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_signed() {
        assert_eq!(number(1_234_567.891, 2), "1,234,567.89");
        assert_eq!(number(-1234.0, 0), "−1,234");
        assert_eq!(number(-0.0001, 2), "0.00");
        assert_eq!(number(999.0, 0), "999");
        assert_eq!(number(f64::NAN, 2), "—");
        assert_eq!(figure(600.0), "600");
        assert_eq!(figure(0.97751), "0.9775");
        assert_eq!(figure(1234.56), "1,234.6");
        assert_eq!(percent(Lang::En, 0.1234, 1), "12.3 %");
        assert_eq!(percent(Lang::Zh, 0.1234, 1), "12.3%");
        assert_eq!(bytes(1_530_000), "1.5 MB");
    }

    #[test]
    fn times_read_in_both_languages() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T20:38:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(time(Lang::Zh, t), "2026年12月01日 20:38 UTC");
        let later = t + chrono::Duration::minutes(90);
        assert_eq!(age(Lang::En, t, later), "1 h ago");
        assert_eq!(age(Lang::Zh, t, later), "1 小时前");
    }
}
