// Which roles each screen is for: exactly the roles the API lets call the operation the screen is
// built on (tests/test_web.py checks this table against the API document's "Roles:"), so the menu
// never offers a screen the API would refuse, nor hides one it would allow. The API still decides:
// its 403s are shown as such.
export const STAFF_ROLES = ["admin", "teacher", "venue_manager", "welfare_officer", "unit_admin", "desk"] as const;

export const SCREENS = {
  desk: { roles: ["desk", "admin"], api: "POST /v1/desk/members" },
  courses: { roles: ["admin", "teacher"], api: "POST /v1/courses" },
  teaching: { roles: ["admin", "teacher"], api: "GET /v1/me/teaching" },
  roomsWeek: { roles: ["venue_manager", "admin"], api: "GET /v1/closures" },
  approvals: { roles: ["venue_manager", "admin"], api: "POST /v1/bookings/{booking_id}/approve" },
  closures: { roles: ["venue_manager", "admin"], api: "POST /v1/closures" },
  accounts: { roles: ["admin"], api: "POST /v1/accounts" },
  reports: { roles: ["admin", "teacher", "venue_manager", "welfare_officer", "desk"], api: "GET /v1/reports/summary" },
  cases: { roles: ["welfare_officer", "admin"], api: "POST /v1/welfare/applications/{application_id}/decisions" },
  plans: { roles: ["unit_admin", "welfare_officer", "admin"], api: "POST /v1/mutual-aid/plans/{plan_id}/enrolments" },
  claims: { roles: ["welfare_officer", "admin"], api: "POST /v1/mutual-aid/claims/{claim_id}/decisions" },
  ledger: { roles: ["welfare_officer", "admin"], api: "GET /v1/welfare/funds/{fund_id}/ledger" },
  rules: { roles: ["welfare_officer", "admin"], api: "PUT /v1/welfare/programmes/{code}/rules" },
  broadcasts: { roles: ["admin", "teacher", "unit_admin"], api: "POST /v1/broadcasts" },
  counselling: { roles: ["welfare_officer", "admin"], api: "GET /v1/welfare/counselling" },
} as const satisfies Record<string, { roles: readonly string[]; api: string }>;

export type Screen = keyof typeof SCREENS;

export function mayOpen(roles: readonly string[], screen: Screen): boolean {
  return SCREENS[screen].roles.some((role) => roles.includes(role));
}

export function isStaff(roles: readonly string[]): boolean {
  return STAFF_ROLES.some((role) => roles.includes(role));
}
