// The staff console: a desktop Vue app on Element Plus, served by the gateway at /console/.
import { createApp } from "vue";
import { createPinia } from "pinia";
import { languageSwitch, savedLanguage, setupI18n } from "@shared/i18n";
import "element-plus/theme-chalk/base.css";
import "element-plus/es/components/message/style/css";
import "element-plus/es/components/message-box/style/css";
import "./theme.css";
import App from "./App.vue";
import { router } from "./router";
import { switchLanguage } from "./composables/language";
import zhCN from "./locales/zh-CN.json";

const i18n = setupI18n({ "zh-CN": zhCN });
const app = createApp(App).use(createPinia()).use(i18n).use(router);
app.config.errorHandler = (error) => console.error("[console]", error);
const language = savedLanguage();
(language === "zh-CN" ? Promise.resolve() : switchLanguage(languageSwitch(i18n), language)).finally(() => app.mount("#app"));
