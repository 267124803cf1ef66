"""The problem types as pages. Every problem document's `type` is an address (RFC 9457): the palace's
public address (PALACE_PUBLIC_URL, else the request's own scheme and host) and /problems/<slug>. A
person who follows it, a developer reading a log or a clerk handed a screenshot, finds what the problem
means and what to do, in Chinese first and then in English. A slug without a page here is a 404, and
tests/unit/test_problem_pages.py fails when the code can raise a type that has no page.

Each page: (what it means, what to do) in Chinese, then the same in English. The slug is the contract
the web apps translate (web/shared/api/problems.ts takes the address's last part), so a slug, once
published, keeps its meaning."""
import html
from http import HTTPStatus

from services.common import config

PREFIX = "/problems/"

PAGES = {
    # the request itself
    "bad-request": ("请求无法理解。", "检查请求的格式和参数后重试；用网页或应用时请刷新页面。",
                    "The request was not understood.", "Check its form and parameters; in an app, reload the page."),
    "malformed-json": ("请求内容不是有效的 JSON。", "发送一个 JSON 对象作为请求内容。",
                       "The body is not valid JSON.", "Send a JSON object as the body."),
    "body-required": ("请求缺少内容。", "在请求内容中发送一个 JSON 对象。",
                      "The request has no body.", "Send a JSON object in the body."),
    "validation-failed": ("有些字段不符合要求；`errors` 逐个字段说明原因。", "按提示修改这些字段后重新提交。",
                          "Some fields are not acceptable; `errors` names each field and why.",
                          "Correct those fields and send again."),
    "payload-too-large": ("请求内容或文件太大。", "换一个较小的文件（说明中写有上限）。",
                          "The body or file is too large.", "Send a smaller one (the detail gives the limit)."),
    "unsupported-media-type": ("不接受这种内容或文件类型。", "文件请用 PDF、JPG 或 PNG；接口请发送 JSON。",
                               "That kind of content or file is not accepted.",
                               "Send files as PDF, JPG or PNG, and API bodies as JSON."),
    "length-required": ("请求没有说明内容长度。", "带上 Content-Length 重新发送（不要分块传输）。",
                        "The request does not say how long its body is.",
                        "Send it again with a Content-Length (not chunked)."),
    "method-not-allowed": ("这个地址不支持这种操作。", "查看接口文档（/docs）中这个地址支持的方法。",
                           "This address does not take that method.", "See the API document (/docs) for its methods."),
    "not-found": ("没有找到要找的内容。", "检查地址；内容可能已被删除，或不是您能看到的。",
                  "What was asked for was not found.",
                  "Check the address; it may have been removed, or is not yours to see."),
    "precondition-required": ("修改这项内容时必须说明您读到的是哪个版本（If-Match 请求头）。",
                              "先读取内容，把回答中的 ETag 放在 If-Match 请求头里再修改。",
                              "A change to this must say which version it was made to (the If-Match header).",
                              "Read it first, then send its ETag as If-Match with the change."),
    "precondition-failed": ("您读取之后，这项内容已被别人改过，所以什么也没有改。",
                            "重新读取（刷新），在最新的内容上再改一次。",
                            "It was changed by someone else since you read it, so nothing was changed.",
                            "Read it again (reload) and make the change to what is there now."),
    "idempotency-key-reused": ("同一个 Idempotency-Key 被用在了不同的请求上。", "每个新请求用一个新的键；网页上请刷新后重新提交。",
                               "This Idempotency-Key was used for a different request.",
                               "Use a new key for each new request; in an app, reload and send again."),
    "request-in-progress": ("用同一个 Idempotency-Key 的上一次请求还在处理中。", "稍等几秒再重试，会得到那次请求的结果。",
                            "The first request with this Idempotency-Key is still running.",
                            "Wait a few seconds and retry: you will get its answer."),
    "duplicate-request": ("这个 Idempotency-Key 已经用于另一份申请。", "换一个新的键再提交。",
                          "This Idempotency-Key was already used for another application.", "Send it with a new key."),
    "export-too-large": ("要导出的行数超过了一次导出的上限。", "用列表的筛选条件缩小范围后再导出。",
                         "The list holds more rows than one export may.", "Narrow it with the list's filters, then export."),
    "bad-report-query": ("报表的时间段或分组方式不正确。", "检查起止日期和分组方式后重试。",
                         "The report's period or breakdown is wrong.", "Check the dates and the breakdown and ask again."),
    # signing in
    "unauthorized": ("需要先登录。", "登录后再试。", "This needs someone signed in.", "Sign in and try again."),
    "unauthenticated": ("需要先登录。", "登录后再试。", "This needs someone signed in.", "Sign in and try again."),
    "bad-token": ("登录凭证无效或已过期。", "重新登录；接口请用 Authorization: Bearer <访问令牌>。",
                  "The sign-in token is not valid or has expired.",
                  "Sign in again; API clients send Authorization: Bearer <access token>."),
    "bad-refresh-token": ("续期凭证已用过或无效，整个登录已结束。", "重新登录。",
                          "The refresh token was used already or is not valid; that sign-in has ended.",
                          "Sign in again."),
    "bad-credentials": ("手机号或密码不正确。", "检查后重试；忘记密码可以重设。",
                        "The phone number or the password is wrong.", "Check them and retry, or reset the password."),
    "signed-out": ("密码已更改，之前的登录已失效。", "用新密码重新登录。",
                   "The password was changed, so earlier sign-ins have ended.", "Sign in with the new password."),
    "account-closed": ("这个账号已注销。", "如有疑问请联系服务中心。", "This account has been closed.",
                       "Ask the service centre if this is unexpected."),
    "account-gone": ("这个账号已不存在。", "如有疑问请联系服务中心。", "This account no longer exists.",
                     "Ask the service centre if this is unexpected."),
    "phone-taken": ("这个手机号已经注册过。", "直接登录，或重设密码。", "An account with this phone number exists already.",
                    "Sign in, or reset the password."),
    "bad-reset-code": ("验证码不正确、已使用或已过期。", "重新获取验证码。", "The code is wrong, used or expired.",
                       "Ask for a new code."),
    "code-sealed-badly": ("密码重设验证码无法解开（系统内部配置问题）。", "请联系系统管理员检查 PALACE_RESET_CODE_KEY。",
                          "The sealed reset code cannot be opened (a setup problem inside the palace).",
                          "Ask the administrator to check PALACE_RESET_CODE_KEY."),
    "birth-date-set": ("出生日期已经填写过，不能自行修改。", "如需更正，请到服务中心办理。",
                       "The date of birth is given already and cannot be changed here.",
                       "The service centre corrects a mistake."),
    "rate-limited": ("尝试次数太多。", "等待回答中 Retry-After 所说的秒数后再试。", "Too many tries.",
                     "Wait the seconds Retry-After gives, then try again."),
    "too-many-requests": ("请求太频繁。", "稍后再试。", "Too many requests.", "Wait a moment and try again."),
    "busy": ("现在登录的人很多。", "过几秒再试。", "Many people are signing in just now.", "Try again in a few seconds."),
    # who may do what
    "forbidden": ("您没有权限做这件事。", "如需权限请联系管理员。", "You are not allowed to do this.",
                  "Ask an administrator if you need to."),
    "caller-not-allowed": ("系统的这一部分不允许调用那项服务（内部调用被拒绝）。", "这是系统内部问题，请联系管理员。",
                           "This part of the palace may not call that service (an internal call refused).",
                           "This is a fault inside the palace: tell the administrator."),
    "context-unsigned": ("内部调用没有签名。", "这是系统内部问题，请联系管理员。", "An internal call carried no signature.",
                         "This is a fault inside the palace: tell the administrator."),
    "context-tampered": ("内部调用的签名不符。", "这是系统内部问题，请联系管理员。",
                         "An internal call does not match its signature.",
                         "This is a fault inside the palace: tell the administrator (check PALACE_CONTEXT_KEY)."),
    "context-stale": ("内部调用的签名已过期。", "检查服务器时钟后重试；仍有问题请联系管理员。",
                      "An internal call's signature has expired.", "Check the servers' clocks and retry."),
    "event-unsigned": ("内部消息没有签名。", "这是系统内部问题，请联系管理员。", "An internal event carried no signature.",
                       "This is a fault inside the palace: tell the administrator."),
    "event-tampered": ("内部消息的签名不符。", "这是系统内部问题，请联系管理员。", "An internal event does not match its signature.",
                       "This is a fault inside the palace: tell the administrator."),
    # the palace itself
    "internal-error": ("服务器出错了，已经记录下来。", "稍后再试；如果一直出现，把回答中的 request_id 告诉管理员。",
                       "Something went wrong on the server; it has been logged.",
                       "Try again later; if it persists, give the administrator the answer's request_id."),
    "internal": ("服务器出错了，已经记录下来。", "稍后再试；如果一直出现，把 request_id 告诉管理员。",
                 "Something went wrong on the server; it has been logged.",
                 "Try again later; if it persists, give the administrator the request_id."),
    "service-unavailable": ("系统的某一部分暂时没有回应。", "等待 Retry-After 所说的秒数后重试（可以安全重试）。",
                            "A part of the palace is not answering for now.",
                            "Retry after the seconds Retry-After gives (it is safe to retry)."),
    "venues-unavailable": ("场地服务暂时没有回应，所以没有改动。", "稍后重试。",
                           "The venues service is not answering, so nothing was changed.", "Try again shortly."),
    "web-app-not-built": ("这里还没有构建网页应用。", "运行 scripts/web 构建（make run 和 make test 会自动构建）。",
                          "The web apps are not built here.", "Build them with scripts/web (make run and make test do)."),
    "refused": ("这个请求被拒绝了，说明中写有原因。", "按说明处理。", "The request was refused; the detail says why.",
                "Act on the detail."),
    "conflict": ("现在的状态下不能这样做。", "刷新查看最新状态后再决定。", "This cannot be done in the current state.",
                 "Reload to see how things stand now."),
    # classes and enrolment
    "course-not-found": ("没有找到这门课程。", "检查地址，或回到课程列表。", "That course was not found.",
                         "Check the address, or go back to the catalogue."),
    "course-not-open": ("这门课程现在不接受报名。", "看看其他课程，或等开放后再来。", "This course is not taking enrolments.",
                        "Look at other courses, or come back when it opens."),
    "course-cancelled": ("这门课程已取消。", "看看其他课程。", "This course has been cancelled.", "Look at other courses."),
    "course-changed": ("在预订教室期间，这门课程被改动了。", "刷新后再改一次。",
                       "The course changed while its room was being booked.", "Reload and try again."),
    "course-rule": ("改动违反了这门课程的规则（如名额、时间）。", "按说明调整后再提交。",
                    "The change breaks a rule of the course (seats, times).", "Adjust it as the detail says."),
    "capacity-below-taken": ("名额不能少于已确认的人数。", "把名额设为不少于已确认的人数。",
                             "Seats cannot be fewer than those already taken.", "Give at least as many seats as are taken."),
    "enrolment-closed": ("现在不在报名时间内。", "在报名开放时间内再来。", "Enrolment is not open now.",
                         "Come back while enrolment is open."),
    "already-enrolled": ("已经报名了这门课程。", "在“我的课程”里查看。", "Already enrolled in this course.",
                         "See it among your courses."),
    "not-eligible": ("不符合报名或申请条件（如年龄、所属工会、帮扶条件）。", "说明中写有具体条件；如有疑问请咨询服务中心。",
                     "The conditions are not met (age, union branch, a programme's rules).",
                     "The detail names them; ask the service centre if in doubt."),
    "enrolment-blocked": ("多次缺课未到，暂时不能报名新课程。", "说明中写有解除日期，届时再报名。",
                          "Missed sessions block new enrolments for a while.", "The detail gives the date it ends."),
    "timetable-clash": ("这门课与已报名的课程时间冲突。", "先退掉冲突的课程，或选其他时间的课程。",
                        "The course's sessions overlap a class already held.",
                        "Give up the other class, or choose another course."),
    "term-cap-reached": ("本学期报名的课程已达上限。", "退掉一门后再报名，或等下学期。",
                         "As many classes as a member may hold this term.", "Give one up, or wait for the next term."),
    "term-exists": ("同名的学期已经存在。", "换一个名称。", "A term of that name exists already.", "Choose another name."),
    "term-not-found": ("没有找到这个学期。", "检查学期。", "No such term.", "Check the term."),
    "enrolment-not-found": ("没有找到这条报名记录。", "检查地址，或在“我的课程”里查看。", "That enrolment was not found.",
                            "Check the address, or see your courses."),
    "cannot-cancel": ("已过退课截止时间，或这条报名不能取消。", "请联系文化宫工作人员。",
                      "It is past the cut-off, or this enrolment cannot be cancelled.", "Ask the palace staff."),
    "no-offer": ("没有为您保留的名额。", "查看报名状态；候补名额空出时会通知您。", "There is no seat offered to take up.",
                 "See the enrolment's status; you are told when a seat frees."),
    "offer-expired": ("保留名额的时间已过。", "名额已让给下一位候补；可以重新报名候补。", "The time to take up the seat has passed.",
                      "It went to the next on the waitlist; you may join it again."),
    "not-enrolled": ("没有报名（或不在这个计划中）。", "先报名或加入后再试。", "Not enrolled (or not on this plan).",
                     "Enrol or join first."),
    "no-seat": ("只有在这门课程中有座位的会员才能签到。", "先报名这门课程。",
                "Only members with a seat in the course can check in.", "Enrol in the course first."),
    "wrong-code": ("签到码不正确。", "用门口显示的签到码。", "The check-in code is wrong.", "Use the code shown at the door."),
    "attendance-not-open": ("现在不在签到或点名时间内。", "在上课前后规定的时间内再试。", "Attendance is not open now.",
                            "Try again around the session's time."),
    "session-not-found": ("没有找到这节课。", "检查课程的课表。", "That session was not found.", "Check the course's timetable."),
    "session-attended": ("这节课已经点过名，不能整体替换。", "逐个更正需要改的人。",
                         "Attendance is marked for this session and cannot be replaced.", "Correct single marks instead."),
    "session-not-held": ("这节课没有开课（已取消或已结束）。", "查看课表。", "The session is not being held.",
                         "See the timetable."),
    "certificate-not-earned": ("还不能领取结业证书：课程未结束或出勤不够。", "课程结束且出勤达到要求后再来。",
                               "No certificate yet: the course is not over, or attendance is not enough.",
                               "Come back when the course is over and attendance suffices."),
    "certificate-not-found": ("没有证书使用这个验证码。", "核对证书上的验证码。", "No certificate has this verification code.",
                              "Check the code printed on the certificate."),
    "lottery-not-drawn": ("还没有抽签。", "在抽签时间之后再来看。", "The lottery has not been drawn yet.",
                          "Look again after the draw."),
    "already-drawn": ("这门课程已经抽过签了。", "查看抽签结果。", "The lottery has been drawn already.", "See its result."),
    "not-a-lottery": ("这门课程按先到先得报名，不抽签。", "直接报名。", "The course allocates first come, first served.",
                      "Enrol directly."),
    "not-a-draft": ("它已经不是草稿，不能这样改。", "刷新查看现在的状态。", "It is no longer a draft.", "Reload to see its state."),
    "room-clash": ("教室在这些日期已被占用，所以没有改动。", "换教室或时间；说明中列出了冲突的日期。",
                   "The room is taken on those dates, so nothing was changed.",
                   "Choose another room or time; the detail lists the dates."),
    "class-request-not-found": ("没有找到这个开课申请。", "检查地址。", "That class request was not found.", "Check the address."),
    "already-decided": ("这件事已经作出决定了。", "刷新查看结果。", "This has been decided already.", "Reload to see the outcome."),
    # rooms and clubs
    "room-not-found": ("没有找到这个场地。", "检查地址，或回到场地列表。", "That room was not found.", "Check the address."),
    "room-not-bookable": ("您不能预约这个场地。", "说明中写有可以预约的人；可咨询场地管理员。",
                          "You cannot book this room.", "The detail says who can; ask the venue manager."),
    "room-name-taken": ("这个场所已有同名的场地。", "换一个名称。", "This site has a room of that name already.",
                        "Choose another name."),
    "booking-conflict": ("这个时间场地已被占用。", "换个时间或场地。", "The room is taken at that time.",
                         "Try another time or room."),
    "closure-not-found": ("没有找到这次关闭，可能已被取消。", "刷新关闭列表。", "That closure was not found; it may have been removed.",
                          "Reload the list of closures."),
    "booking-not-found": ("没有找到这条预约。", "在“我的预约”里查看。", "That booking was not found.", "See your bookings."),
    "wrong-status": ("这条预约现在的状态不能这样操作。", "刷新查看预约状态。", "The booking cannot be changed that way now.",
                     "Reload to see its state."),
    "check-in-window": ("现在不在签到时间内。", "在开始前后规定的时间内签到。", "Check-in is not open now.",
                        "Check in around the start time."),
    "check-in-closed": ("签到时间已过。", "下次请按时签到。", "Check-in has closed.", "Check in on time next time."),
    "too-many-no-shows": ("多次预约未到，暂时不能预约这个场地。", "说明中写有恢复时间。", "After several no-shows booking is suspended.",
                          "The detail says until when."),
    "not-club-leader": ("只有社团负责人或场地管理员能替社团预约。", "请社团负责人预约。",
                        "Only the club's leader or a venue manager may book for it.", "Ask the club's leader."),
    "club-not-found": ("没有找到这个社团。", "检查地址。", "That club was not found.", "Check the address."),
    "club-name-taken": ("这里已有同名的社团。", "换一个名称。", "There is a club of that name here already.",
                        "Choose another name."),
    "site-not-found": ("没有找到这个场所。", "检查场所。", "No such site.", "Check the site."),
    "calendar-day-not-found": ("日历中没有这一天。", "检查日期。", "No such day in the calendar.", "Check the date."),
    "feed-not-found": ("这个日历订阅地址已失效。", "在应用里重新生成订阅地址。", "No such calendar feed.",
                       "Make a new feed address in the app."),
    # welfare
    "programme-not-found": ("没有这个帮扶项目。", "检查项目名称。", "There is no such programme.", "Check the programme."),
    "application-not-found": ("没有找到这份申请。", "检查地址，或在“我的申请”里查看。", "That application was not found.",
                              "Check the address, or see your applications."),
    "not-the-applicant": ("只有申请人本人可以这样做。", "请申请人本人操作。", "Only the applicant may do this.",
                          "The applicant does it."),
    "not-on-the-case": ("只有申请人和经办专员能处理这个案件的材料。", "请经办专员处理。",
                        "Only the applicant and the officers on the case handle its documents.", "Ask them."),
    "case-decided": ("申请已有结论，材料不能再改。", "如有新情况请提交新的申请。", "The case is decided: its documents are settled.",
                     "Apply again if things have changed."),
    "case-closed": ("申请已关闭。", "如有需要请提交新的申请。", "The case is closed.", "Apply again if you need to."),
    "case-not-open": ("申请现在的状态不能这样操作。", "刷新查看申请状态。", "The case cannot be changed that way now.",
                      "Reload to see its state."),
    "illegal-transition": ("申请现在的状态不能这样操作。", "刷新查看申请状态。", "The case cannot move that way from its state.",
                           "Reload to see its state."),
    "own-application": ("专员不能处理自己的申请。", "请另一位专员处理。", "An officer may not handle their own application.",
                        "Another officer does it."),
    "already-approved": ("您已经签批过，需要另一位专员签批。", "请另一位专员签批。",
                         "You approved this already: another officer must.", "Ask another officer."),
    "amount-differs": ("金额与第一位专员签批的不一致。", "签批相同的金额，或退回案件。",
                       "The amount differs from the first officer's sign-off.",
                       "Sign the same amount, or return the case."),
    "approver-pays": ("签批的专员不能再发放这笔钱。", "请另一位专员发放。", "The officer who approved it may not pay it.",
                      "Another officer pays."),
    "not-approved": ("还没有批准，不能发放。", "等批准后再发放。", "It is not approved, so nothing is paid.",
                     "Pay once it is approved."),
    "already-paid": ("已经发放过了。", "在发放记录里查看。", "It has been paid already.", "See the payout record."),
    "nothing-to-pay": ("没有要发放的金额。", "这个项目提供服务而不是现金，或计划对此不补助。",
                       "There is nothing to pay.", "The programme gives a service, or the plan pays nothing for this."),
    "fund-not-found": ("没有这个资金账户。", "检查资金名称。", "No such fund.", "Check the fund."),
    "fund-exhausted": ("资金余额不足。", "请财务补充资金后再发放。", "The fund does not hold enough money for this.",
                       "Top the fund up, then pay."),
    "stale-rules": ("您读取之后，项目的条件被别人改过，所以没有保存。", "重新读取条件，在最新的版本上修改。",
                    "The rules were changed since you read them, so nothing was saved.",
                    "Read them again and change the current version."),
    "duplicate-claim": ("同一件事已经申请过补助。", "查看已有的申请。", "A claim for this is already made.",
                        "See the existing claim."),
    "claim-not-found": ("没有找到这个补助申请。", "检查地址。", "That claim was not found.", "Check the address."),
    "claim-decided": ("补助申请已有结论，不能再分派。", "刷新查看状态。", "The claim is decided and cannot be triaged.",
                      "Reload to see its state."),
    "document-not-found": ("没有找到这份材料。", "检查地址。", "That document was not found.", "Check the address."),
    "not-an-officer": ("只有帮扶专员可以替会员申请。", "请专员办理。", "Only an officer may claim on a member's behalf.",
                       "Ask an officer."),
    # mutual aid and units
    "plan-not-found": ("没有找到这个互助保障计划。", "检查计划。", "That mutual-aid plan was not found.", "Check the plan."),
    "plan-exists": ("这一年已有同名的计划。", "换一个名称。", "A plan of that name exists for that year.", "Choose another name."),
    "import-not-found": ("没有找到这次导入。", "检查地址。", "That import was not found.", "Check the address."),
    "not-a-unit-admin": ("只有本单位的工会管理员或专员能处理名册。", "请单位工会管理员处理。",
                         "Only the unit's administrator or an officer handles a roster.", "Ask them."),
    "not-your-unit": ("单位管理员只能处理本单位的名册。", "处理自己单位的名册。", "A unit administrator handles their own unit only.",
                      "Work on your own unit's roster."),
    "contribution-mismatch": ("缴费金额与名册人数不符。", "核对金额和名册后重新提交。",
                              "The contribution does not match the roster.", "Check the amount and the roster."),
    "contribution-recorded": ("本单位的缴费已登记，名册已确定。", "如需更正请联系专员。",
                              "The unit's contribution is recorded: its roster is settled.", "Ask an officer to correct it."),
    "roster-unconfirmed": ("还有续保职工等待本单位确认。", "先确认或移除他们。", "Renewed workers wait for the unit's confirmation.",
                           "Confirm or remove them first."),
    "enrolment-claimed": ("这位职工已有补助申请，不能移出名册。", "保留在名册中。",
                          "A claim was filed for this worker: they stay on the roster.", "Keep them."),
    "in-another-unit": ("这位会员属于另一个单位。", "请那个单位处理。", "This member belongs to another unit.",
                        "That unit handles them."),
    "unit-exists": ("同名的单位已经存在。", "换一个名称。", "A unit of that name exists already.", "Choose another name."),
    "unit-not-found": ("没有找到这个单位。", "检查单位。", "No such unit.", "Check the unit."),
    "member-not-found": ("没有找到这位会员。", "核对手机号或编号。", "No such member.", "Check the phone number or id."),
    "account-not-found": ("没有找到这个账号。", "检查账号。", "No such account.", "Check the account."),
    "leader-not-found": ("没有找到这位负责人。", "检查负责人的账号。", "No such leader.", "Check the leader's account."),
    # notifications
    "notification-not-found": ("没有找到这条消息。", "回到消息列表。", "That message was not found.", "Go back to your messages."),
    "broadcast-not-found": ("没有找到这条群发通知。", "检查地址。", "That broadcast was not found.", "Check the address."),
    "broadcast-finished": ("群发已经完成，不能再改。", "需要的话发一条新的。", "The broadcast has finished.",
                           "Send a new one if needed."),
    "delivery-not-found": ("没有找到这次发送记录。", "检查地址。", "That delivery was not found.", "Check the address."),
    "delivery-not-failed": ("只有失败的发送才能重发。", "查看它现在的状态。", "Only a failed delivery can be replayed.",
                            "See its state."),
    # issue 18 and 20's additions: units by invitation, assignment by another, WeChat, the key ring
    "already-a-member": ("这位会员已经是本单位的职工。", "不需要再邀请或加入。",
                         "This member already belongs to the unit.", "There is nothing more to do."),
    "invite-instead": ("单位管理员不能直接把会员拉进单位，需要会员本人同意。", "发送邀请，会员在“我的”里接受后即加入。",
                       "A unit administrator cannot add a member directly: the member must agree.",
                       "Send an invitation; the member joins when they accept it in the app."),
    "staff-account": ("文化宫工作人员的账号不能被单位邀请或拉入。", "工作人员的单位由文化宫管理员设置。",
                      "A palace staff account cannot be invited or pulled into a unit.",
                      "The palace administrator sets a staff member's unit."),
    "invitation-not-found": ("没有找到这份邀请，或它已被接受、拒绝。", "在“我的单位邀请”里查看仍待处理的邀请。",
                             "That invitation was not found, or was already accepted or declined.",
                             "See your open invitations in the app."),
    "self-assignment": ("经办专员不能把个案或理赔分派给自己。", "请管理员或另一位专员分派。",
                        "An officer cannot assign a case or a claim to themselves.",
                        "Ask an administrator or another officer to assign it."),
    "payout-not-found": ("这笔款项还没有发放。", "先审批，再由另一位专员发放。",
                         "Nothing has been paid out yet.", "Approve first; another officer then pays."),
    "bad-phone-code": ("验证码不对、已用过或已过期。", "重新获取验证码后再试。",
                       "The code is wrong, used or expired.", "Ask for a new code and try again."),
    "bad-gateway": ("文化宫依赖的外部服务回答有误。", "稍后重试；如果一直如此，请联系管理员。",
                    "A provider the palace relies on gave a wrong answer.",
                    "Try again later; if it keeps happening, tell an administrator."),
    "wechat-off": ("这里还没有开通微信绑定。", "改用短信接收通知，或请管理员配置微信公众号。",
                   "WeChat binding is not set up here.", "Use SMS for now, or ask an administrator to set WeChat up."),
    "wechat-refused": ("微信没有确认这次授权。", "在微信里重新点“绑定微信”。",
                       "WeChat did not confirm this authorisation.", "Start \"bind WeChat\" again from inside WeChat."),
    "wechat-unreachable": ("暂时连不上微信。", "稍后重新绑定。", "WeChat could not be reached.", "Bind again later."),
    "wechat-state-refused": ("这次微信绑定不是从这里开始的，或已用过、已过期。", "在应用的“联系方式”里重新点“绑定微信”。",
                             "This WeChat binding was not started here, was used or has lapsed.",
                             "Start \"bind WeChat\" again from your contacts in the app."),
    "welfare-key-missing": ("这份资料用一把当前没有配置的密钥加密，暂时无法读取。", "请运维人员把那把密钥放回密钥环（PALACE_WELFARE_KEYS）。",
                            "This record is sealed under a key the palace does not hold now, so it cannot be read.",
                            "Ask operations to put that key back in the key ring (PALACE_WELFARE_KEYS)."),
}


def slug_of(status):
    """A type for an HTTP error with no slug of its own (falcon's, say a 406): http-<status>."""
    return f"http-{status}"


def page_of(slug):
    """(what, to do) in Chinese and English for a slug, or None: a registered page, or a plain HTTP
    status's (http-406) own phrase."""
    if slug in PAGES:
        return PAGES[slug]
    status = slug.removeprefix("http-")
    if slug.startswith("http-") and status.isdigit():
        try:
            phrase = HTTPStatus(int(status))
        except ValueError:
            return None
        return (f"HTTP {phrase.value}：{phrase.phrase}。", "按说明处理，或查看接口文档（/docs）。",
                f"HTTP {phrase.value}: {phrase.phrase}.", "Act on the detail, or see the API document (/docs).")
    return None


def base(req):
    """The palace's public address: PALACE_PUBLIC_URL, or the scheme and host this request came to."""
    return (config.env("PALACE_PUBLIC_URL") or req.prefix).rstrip("/")


def type_of(req, slug):
    return f"{base(req)}{PREFIX}{slug}"


PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{slug}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.6}}
code{{background:#f3f3f3;padding:0 .2em}}section+section{{border-top:1px solid #ddd;margin-top:1.5em}}</style>
</head>
<body>
<p><code>{type}</code></p>
<section>
<h1>{zh_what}</h1>
<p><strong>怎么办：</strong>{zh_do}</p>
</section>
<section lang="en">
<h2>{en_what}</h2>
<p><strong>What to do:</strong> {en_do}</p>
</section>
</body>
</html>
"""


def render(req, slug, page):
    zh_what, zh_do, en_what, en_do = (html.escape(text) for text in page)
    return PAGE.format(slug=html.escape(slug), type=html.escape(type_of(req, slug)), zh_what=zh_what, zh_do=zh_do,
                       en_what=en_what, en_do=en_do)
