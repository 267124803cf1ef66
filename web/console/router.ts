// The console's pages, under /console/. Every page but sign-in needs a signed-in staff account; a page
// made for other roles (a deep link) shows a clear "no access" page in the frame, never a blank one.
// Each screen is its own chunk, loaded when first opened.
import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { useAuth } from "@shared/auth/session";
import type { Screen } from "./access";
import { useStaff } from "./composables/staff";
import Shell from "./components/Shell.vue";

declare module "vue-router" {
  interface RouteMeta {
    screen?: Screen;
    public?: boolean;
  }
}

const routes: RouteRecordRaw[] = [
  { path: "/signin", name: "signin", component: () => import("./screens/SignIn.vue"), meta: { public: true, title: "signIn.title" } },
  {
    path: "/",
    component: Shell,
    meta: { title: "app.name" },
    children: [
      { path: "", name: "home", component: () => import("./screens/Home.vue"), meta: { title: "home.title" } },
      { path: "desk", name: "desk", component: () => import("./screens/Desk.vue"), meta: { screen: "desk", title: "desk.title" } },
      { path: "desk/members/:id", name: "deskMember", component: () => import("./screens/DeskMember.vue"), meta: { screen: "desk", title: "desk.memberTitle" } },
      { path: "courses", name: "courses", component: () => import("./screens/Courses.vue"), meta: { screen: "courses", title: "courses.title" } },
      { path: "courses/new", name: "courseNew", component: () => import("./screens/CourseForm.vue"), meta: { screen: "courses", title: "courseForm.newTitle" } },
      { path: "courses/:id", name: "course", component: () => import("./screens/Course.vue"), meta: { screen: "courses", title: "course.title" } },
      { path: "courses/:id/edit", name: "courseEdit", component: () => import("./screens/CourseForm.vue"), meta: { screen: "courses", title: "courseForm.editTitle" } },
      { path: "teaching", name: "teaching", component: () => import("./screens/Teaching.vue"), meta: { screen: "teaching", title: "teaching.title" } },
      { path: "reports", name: "reports", component: () => import("./screens/Reports.vue"), meta: { screen: "reports", title: "reports.title" } },
      { path: "rooms/week", name: "roomsWeek", component: () => import("./screens/RoomsWeek.vue"), meta: { screen: "roomsWeek", title: "roomsWeek.title" } },
      { path: "rooms/approvals", name: "approvals", component: () => import("./screens/Approvals.vue"), meta: { screen: "approvals", title: "approvals.title" } },
      { path: "rooms/closures", name: "closures", component: () => import("./screens/Closures.vue"), meta: { screen: "closures", title: "closures.title" } },
      { path: "welfare/cases", name: "cases", component: () => import("./screens/Cases.vue"), meta: { screen: "cases", title: "cases.title" } },
      { path: "welfare/cases/:id", name: "case", component: () => import("./screens/Case.vue"), meta: { screen: "cases", title: "case.title" } },
      { path: "welfare/plans", name: "plans", component: () => import("./screens/Plans.vue"), meta: { screen: "plans", title: "plans.title" } },
      { path: "welfare/plans/:id", name: "plan", component: () => import("./screens/Plan.vue"), meta: { screen: "plans", title: "plan.title" } },
      { path: "welfare/claims", name: "claims", component: () => import("./screens/Claims.vue"), meta: { screen: "claims", title: "claims.title" } },
      { path: "welfare/claims/:id", name: "claim", component: () => import("./screens/Claim.vue"), meta: { screen: "claims", title: "claim.title" } },
      { path: "welfare/ledger", name: "ledger", component: () => import("./screens/Ledger.vue"), meta: { screen: "ledger", title: "ledger.title" } },
      { path: "welfare/counselling", name: "counselling", component: () => import("./screens/Counselling.vue"), meta: { screen: "counselling", title: "counselling.title" } },
      { path: "welfare/rules", name: "rules", component: () => import("./screens/Rules.vue"), meta: { screen: "rules", title: "rulesEditor.title" } },
      { path: "broadcasts", name: "broadcasts", component: () => import("./screens/Broadcasts.vue"), meta: { screen: "broadcasts", title: "broadcasts.title" } },
      { path: "accounts", name: "accounts", component: () => import("./screens/Accounts.vue"), meta: { screen: "accounts", title: "accounts.title" } },
      { path: ":rest(.*)*", name: "notFound", component: () => import("./screens/NotFound.vue"), meta: { title: "notFound.title" } },
    ],
  },
];

export const router = createRouter({ history: createWebHistory("/console/"), routes, scrollBehavior: () => ({ top: 0 }) });

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  const back = { name: "signin", query: { redirect: to.fullPath } };
  if (!useAuth().signedIn) return back;
  const staff = useStaff();
  const account = await staff.load().catch(() => undefined); // a failure to read: the frame says why
  if (account === null) return back;
  // a member's session (the member app's too: same origin, same storage) is left as it is
  if (account && !staff.staff) return { name: "signin", query: { notStaff: "1" } };
  return true;
});
