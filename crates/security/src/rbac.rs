//! Roles, actions and the permission matrix (least privilege), plus the authenticated
//! [`Principal`] the service's auth layer receives.

use serde::{Deserialize, Serialize};

/// Roles of a user within one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// 管理者: users, master import, backups. No patient data.
    Administrator,
    /// 受付/会計: patients, visits, calculation, claims.
    Clerk,
    /// 医師: patients, visits, calculation.
    Physician,
    /// 監査: reads the audit log only.
    Auditor,
    /// Machine client (レセコン/EMR); further restricted by the token's scopes.
    ApiClient,
}

pub const ROLES: [Role; 5] = [
    Role::Administrator,
    Role::Clerk,
    Role::Physician,
    Role::Auditor,
    Role::ApiClient,
];

/// Things a route does. Every route of the service maps to exactly one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    ReadPatient,
    WritePatient,
    Calculate,
    GenerateClaims,
    ReadMaster,
    ImportMaster,
    ReadAudit,
    ManageUsers,
    Backup,
}

pub const ACTIONS: [Action; 9] = [
    Action::ReadPatient,
    Action::WritePatient,
    Action::Calculate,
    Action::GenerateClaims,
    Action::ReadMaster,
    Action::ImportMaster,
    Action::ReadAudit,
    Action::ManageUsers,
    Action::Backup,
];

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Clerk => "clerk",
            Role::Physician => "physician",
            Role::Auditor => "auditor",
            Role::ApiClient => "api-client",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        ROLES.into_iter().find(|r| r.as_str() == s)
    }
    /// Human roles need a password and TOTP; `ApiClient` authenticates with tokens only.
    pub fn is_human(self) -> bool {
        self != Role::ApiClient
    }
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ReadPatient => "read-patient",
            Action::WritePatient => "write-patient",
            Action::Calculate => "calculate",
            Action::GenerateClaims => "generate-claims",
            Action::ReadMaster => "read-master",
            Action::ImportMaster => "import-master",
            Action::ReadAudit => "read-audit",
            Action::ManageUsers => "manage-users",
            Action::Backup => "backup",
        }
    }
    pub fn parse(s: &str) -> Option<Action> {
        ACTIONS.into_iter().find(|a| a.as_str() == s)
    }
}

/// The permission matrix, as data. Rows: roles; columns in the order of [`ACTIONS`]:
/// ReadPatient, WritePatient, Calculate, GenerateClaims, ReadMaster, ImportMaster, ReadAudit,
/// ManageUsers, Backup.
#[rustfmt::skip]
const MATRIX: [(Role, [bool; 9]); 5] = [
    //                    RdPt   WrPt   Calc   Claim  RdMst  ImpM   RdAud  Users  Backup
    (Role::Administrator, [false, false, false, false, true,  true,  false, true,  true ]),
    (Role::Clerk,         [true,  true,  true,  true,  true,  false, false, false, false]),
    (Role::Physician,     [true,  true,  true,  false, true,  false, false, false, false]),
    (Role::Auditor,       [false, false, false, false, false, false, true,  false, false]),
    (Role::ApiClient,     [true,  true,  true,  true,  true,  false, false, false, false]),
];

/// May `role` perform `action`? (Within its own tenant; tenant isolation is checked by
/// [`Principal::can`].)
pub fn allowed(role: Role, action: Action) -> bool {
    let col = ACTIONS
        .iter()
        .position(|a| *a == action)
        .unwrap_or(usize::MAX);
    MATRIX
        .iter()
        .find(|(r, _)| *r == role)
        .and_then(|(_, row)| row.get(col).copied())
        .unwrap_or(false)
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    User { id: i64, name: String },
    ApiClient { id: i64, name: String },
}

/// An authenticated caller, scoped to exactly one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub tenant: String,
    pub subject: Subject,
    pub roles: Vec<Role>,
    /// For API tokens: the actions the token was issued for (a subset of the api-client row).
    pub scopes: Option<Vec<Action>>,
}

impl Principal {
    /// May this principal perform `action` on data of `tenant`? False for every other tenant.
    pub fn can(&self, tenant: &str, action: Action) -> bool {
        self.tenant == tenant
            && self.roles.iter().any(|r| allowed(*r, action))
            && self.scopes.as_ref().map_or(true, |s| s.contains(&action))
    }
    /// Short actor label for the audit log ("user:12", "api:3").
    pub fn actor(&self) -> String {
        match &self.subject {
            Subject::User { id, .. } => format!("user:{id}"),
            Subject::ApiClient { id, .. } => format!("api:{id}"),
        }
    }
}

pub fn roles_to_string(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn roles_from_string(s: &str) -> Vec<Role> {
    s.split(',').filter_map(|r| Role::parse(r.trim())).collect()
}

pub fn actions_to_string(a: &[Action]) -> String {
    a.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

pub fn actions_from_string(s: &str) -> Vec<Action> {
    s.split(',')
        .filter_map(|r| Action::parse(r.trim()))
        .collect()
}
