// Where to go after signing in: back to the page that asked for it, if it is one of ours.
import { useRoute, useRouter } from "vue-router";

export function useReturn() {
  const route = useRoute();
  const router = useRouter();
  const target = () => {
    const asked = typeof route.query.redirect === "string" ? route.query.redirect : "/";
    return asked.startsWith("/") && !asked.startsWith("//") ? asked : "/";
  };
  return { target, back: () => router.replace(target()) };
}
