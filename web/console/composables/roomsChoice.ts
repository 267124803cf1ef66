// The site and room a venue manager is looking at, kept while they move between the rooms screens
// (the week grid, closures), and the week (its Monday, YYYY-MM-DD) on the grid, for this tab's life.
import { reactive } from "vue";

export const roomsChoice = reactive({ site: "", room: "", monday: "" });
