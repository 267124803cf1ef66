"""The roles an account can hold, and the groups of them that open the same doors. The gateway
checks them on its routes and each service checks them again (least privilege): both read them here."""
MEMBER = "member"
TEACHER = "teacher"
VENUE_MANAGER = "venue_manager"
WELFARE_OFFICER = "welfare_officer"
UNIT_ADMIN = "unit_admin"  # the union branch of an employer
DESK = "desk"  # the service-centre clerk who serves walk-ins at the counter
ADMIN = "admin"
ROLES = (MEMBER, TEACHER, VENUE_MANAGER, WELFARE_OFFICER, UNIT_ADMIN, DESK, ADMIN)

CLASS_STAFF = (ADMIN, TEACHER)  # terms, courses, lotteries, attendance (a teacher: of the courses they teach)
ROSTER_READERS = (ADMIN, TEACHER, DESK)  # a course's roster with names and phones (a teacher: their own)
MANAGERS = (VENUE_MANAGER, ADMIN)  # sites, rooms, clubs, approvals, closures
OFFICERS = (WELFARE_OFFICER, ADMIN)  # cases, decisions, payouts, the mutual-aid plan
IMPORTERS = (UNIT_ADMIN, WELFARE_OFFICER, ADMIN)  # who enrols members into the mutual-aid plan
STAFF = (ADMIN, TEACHER, VENUE_MANAGER, WELFARE_OFFICER, DESK)  # the palace's staff: the yearly figures
