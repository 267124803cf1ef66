// The member app: a phone-first Vue app on Vant, served by the gateway at /.
import { createApp } from "vue";
import { createPinia } from "pinia";
import { languageSwitch, savedLanguage, setupI18n, translator } from "@shared/i18n";
import "vant/es/toast/style";
import "./theme.css";
import App from "./App.vue";
import { nameVantWidgets } from "./a11y";
import { router } from "./router";
import { switchLanguage, useVantLanguage } from "./composables/language";
import zhCN from "./locales/zh-CN.json";

const i18n = setupI18n({ "zh-CN": zhCN });
const app = createApp(App).use(createPinia()).use(i18n).use(router);
app.config.errorHandler = (error) => console.error("[app]", error);
nameVantWidgets(translator(i18n));
const language = savedLanguage();
(language === "zh-CN" ? useVantLanguage(language) : switchLanguage(languageSwitch(i18n), language))
  .finally(() => app.mount("#app"));
