// The member app's pages. A page marked `auth` needs a signed-in member: without one the member signs in
// first and comes back to it. Each screen is its own chunk, loaded when first opened.
import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { useAuth } from "@shared/auth/session";
// the catalogue is where a visitor lands from a shared link: part of the first load, not a second round trip
import Catalogue from "./screens/Catalogue.vue";

declare module "vue-router" {
  interface RouteMeta {
    auth?: boolean;
    tab?: boolean;
    title: string;
  }
}

const routes: RouteRecordRaw[] = [
  { path: "/", name: "home", component: () => import("./screens/Home.vue"), meta: { auth: true, tab: true, title: "home.title" } },
  { path: "/signin", name: "signin", component: () => import("./screens/SignIn.vue"), meta: { title: "signIn.title" } },
  { path: "/register", name: "register", component: () => import("./screens/Register.vue"), meta: { title: "register.title" } },
  { path: "/reset", name: "reset", component: () => import("./screens/ResetPassword.vue"), meta: { title: "reset.title" } },
  { path: "/courses", name: "catalogue", component: Catalogue, meta: { tab: true, title: "catalogue.title" } },
  { path: "/courses/:id", name: "course", component: () => import("./screens/Course.vue"), meta: { title: "course.title" } },
  { path: "/classes", name: "classes", component: () => import("./screens/MyClasses.vue"), meta: { auth: true, tab: true, title: "classes.title" } },
  { path: "/inbox", name: "inbox", component: () => import("./screens/Inbox.vue"), meta: { auth: true, tab: true, title: "inbox.title" } },
  { path: "/me", name: "me", component: () => import("./screens/Me.vue"), meta: { auth: true, tab: true, title: "me.title" } },
  { path: "/me/preferences", name: "preferences", component: () => import("./screens/Preferences.vue"), meta: { auth: true, title: "preferences.title" } },
  { path: "/me/contacts", name: "contacts", component: () => import("./screens/Contacts.vue"), meta: { auth: true, title: "contacts.title" } },
  { path: "/me/follows", name: "follows", component: () => import("./screens/Follows.vue"), meta: { auth: true, title: "follows.title" } },
  { path: "/me/calendar", name: "calendar", component: () => import("./screens/CalendarFeed.vue"), meta: { auth: true, title: "calendar.title" } },
  { path: "/rooms", name: "rooms", component: () => import("./screens/Rooms.vue"), meta: { auth: true, title: "rooms.title" } },
  { path: "/rooms/bookings", name: "bookings", component: () => import("./screens/MyBookings.vue"), meta: { auth: true, title: "bookings.title" } },
  { path: "/help", name: "help", component: () => import("./screens/Help.vue"), meta: { auth: true, title: "help.title" } },
  { path: "/help/apply/:programme", name: "apply", component: () => import("./screens/Apply.vue"), meta: { auth: true, title: "apply.title" } },
  { path: "/help/cases/:id", name: "case", component: () => import("./screens/Case.vue"), meta: { auth: true, title: "case.title" } },
  { path: "/help/mutual-aid", name: "mutualAid", component: () => import("./screens/MutualAid.vue"), meta: { auth: true, title: "mutualAid.title" } },
  // where a certificate's QR leads whoever is shown it: no sign-in
  { path: "/verify/:code", name: "verify", component: () => import("./screens/Verify.vue"), meta: { title: "verify.title" } },
  { path: "/:rest(.*)*", name: "notFound", component: () => import("./screens/NotFound.vue"), meta: { title: "notFound.title" } },
];

export const router = createRouter({ history: createWebHistory(), routes, scrollBehavior: () => ({ top: 0 }) });

router.beforeEach((to) => {
  if (to.meta.auth && !useAuth().signedIn) return { name: "signin", query: { redirect: to.fullPath } };
  return true;
});
