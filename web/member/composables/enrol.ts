// One tap of 报名: a fresh Idempotency-Key for the tap (its retries after a 503 reuse it, so a seat is
// never taken twice), the button busy until the answer, then the answer as the member should read it.
import { ref } from "vue";
import { api, type Schemas } from "@shared/api/client";
import { call } from "@shared/api/problems";
import { newKey } from "@shared/ids";

export type Enrolment = Schemas["Enrolment"];
/** One of the member's own, with its course told (GET /v1/me/enrolments). */
export type MyEnrolment = Schemas["MyEnrolment"];

export function useEnrol() {
  const busy = ref(false);
  const outcome = ref<Enrolment | null>(null);
  const failure = ref<unknown>(null);

  async function tap(courseId: string) {
    if (busy.value) return;
    busy.value = true;
    failure.value = null;
    try {
      outcome.value = await call(api.POST("/v1/courses/{course_id}/enrolments", {
        params: { path: { course_id: courseId } },
        headers: { "Idempotency-Key": newKey() },
        body: { seats: 1 },
      }));
    } catch (error) {
      failure.value = error;
    } finally {
      busy.value = false;
    }
  }

  return { busy, outcome, failure, tap };
}
