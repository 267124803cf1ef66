// The rules a form checks before sending, so a member hears at once what the API would refuse anyway
// (the API checks them again: it is the one that decides).
import { useI18n } from "vue-i18n";

export const PHONE = /^1[3-9]\d{9}$/;

export function useFieldRules() {
  const { t } = useI18n();
  return {
    phone: [
      { required: true, message: t("fields.phoneRequired") },
      { pattern: PHONE, message: t("fields.phoneInvalid") },
    ],
    password: [
      { required: true, message: t("fields.passwordRequired") },
      { validator: (value: string) => value.length >= 8 && value.length <= 128, message: t("fields.passwordLength") },
    ],
    required: (what: string) => [{ required: true, message: t("fields.required", { what }) }],
    code: [{ pattern: /^\d{8}$/, message: t("fields.codeInvalid") }],
  };
}
