// The console's two languages: English and Simplified Chinese (the first users of every API
// family read Chinese). The browser's language picks one (zh* -> zh-CN), the header's switch
// changes it (kept in localStorage), and the whole page then speaks that one language: labels go
// through `tr` as they are put into the DOM (dom.js), so pages write English once.
const KEY = "conveyor.lang";

const ZH = {
  // navigation, sign-in, shell
  "Tasks": "任务", "Documents": "文档", "Slides": "幻灯片", "Knowledge bases": "知识库",
  "Servers": "服务器", "Files": "文件", "Health": "健康状态", "Operations": "运维",
  "Code generation": "代码生成",
  "Sign in": "登录", "Sign out": "退出", "Token": "令牌", "Loading…": "加载中…",
  "Paste an API token (`make up` prints one; more with ": "粘贴 API 令牌（`make up` 会打印一个；更多令牌用 ",
  "That token is not valid.": "该令牌无效。",
  "Your token was refused; sign in again.": "令牌被拒绝，请重新登录。",
  "Could not load this page": "无法加载此页面", "Try again": "重试",
  "The gateway cannot be reached. Check the connection and try again.":
    "无法连接网关，请检查网络后重试。",
  "Skip to content": "跳到正文", "live": "实时", "中文": "中文", "English": "English",
  // tasks
  "Task": "任务", "Kind": "类型", "Status": "状态", "Progress": "进度", "Created": "创建时间",
  "New echo task": "新建 echo 任务", "Items": "条目", "Sleep per item (ms)": "每条耗时（毫秒）",
  "Concurrency": "并发", "Create echo task": "创建 echo 任务", "No tasks match.": "没有匹配的任务。",
  "No tasks yet.": "还没有任务。", "‹ Newer": "‹ 较新", "Older ›": "较旧 ›", "any": "全部",
  "Search": "搜索", "Id or name": "ID 或名称", "Select": "选择", "Select all": "全选",
  "Cancel selected": "取消所选", "Retry selected": "重试所选", "Start": "开始", "Pause": "暂停",
  "Resume": "继续", "Cancel": "取消", "Retry failed": "重试失败项", "Stage": "阶段",
  "Duration": "耗时", "Summary": "摘要", "Stages and usage": "阶段与用量", "Usage": "用量",
  "None yet.": "暂无。", "This kind has no stages.": "此类型没有阶段。", "Item": "条目",
  "Attempt": "尝试次数", "Error": "错误", "Started": "开始时间", "Timeline": "时间线",
  "Download ZIP": "下载 ZIP", "Slide images →": "幻灯片图片 →", "any status": "全部状态",
  "Item status": "条目状态", "Item detail": "条目详情", "Input": "输入", "Result": "结果",
  "Close": "关闭", "Retry of": "重试自", "Retries": "重试任务", "Parent task": "原任务",
  "Filter by kind": "按类型筛选", "Filter by status": "按状态筛选",
  // documents
  "Templates": "模板", "Template": "模板", "Data sources": "数据源", "Data source": "数据源",
  "Upload template": "上传模板", "Upload data": "上传数据", "Upload": "上传", "Name": "名称",
  "Fields": "字段", "Columns": "列", "Rows": "行数", "Size": "大小", "Uploaded": "上传时间",
  "Delete": "删除", "New batch": "新建批量任务", "Format": "格式", "Mode": "模式",
  "Concurrency (parallel)": "并发（并行）", "Documents per message": "每条消息的文档数",
  "Continue on error": "出错时继续", "Create ZIP": "生成 ZIP", "Start batch": "开始批量任务",
  "Batch tasks": "批量任务", "Batch task": "批量任务", "No templates yet.": "还没有模板。",
  "No data sources yet.": "还没有数据源。", "No batch tasks yet.": "还没有批量任务。",
  "Choose at least one template.": "请至少选择一个模板。", "Rows from": "起始行", "to": "至",
  "Upload a template and a data source to start a batch.": "上传模板和数据源即可开始批量任务。",
  "File": "文件", "Document": "文档",
  // slides
  "Generate slides": "生成幻灯片", "Slide titles": "幻灯片标题", "Style": "风格",
  "One slide title per line": "每行一个幻灯片标题", "Give at least one title.": "请至少填写一个标题。",
  "Batches": "批次", "Batch": "批次", "No slide batches yet.": "还没有幻灯片批次。",
  "Slide batch": "幻灯片批次", "Full size": "查看大图", "Download": "下载",
  "Quarterly review\nWhat shipped\nWhat is next\nThank you": "季度回顾\n已完成\n下一步\n谢谢",
  // knowledge bases
  "Knowledge base": "知识库", "New knowledge base": "新建知识库", "Description": "描述",
  "Create": "创建", "No knowledge bases yet.": "还没有知识库。", "Updated": "更新时间",
  "No documents yet.": "还没有文档。", "Chunks": "分块", "Indexed": "已索引",
  "Sync status": "同步状态", "Sync now": "立即同步", "Sync": "同步", "Sync task": "同步任务",
  "No sync tasks yet.": "还没有同步任务。", "Step": "步骤", "Query": "查询", "Top": "前",
  "Ask a question…": "输入问题…", "Type": "类型",
  // servers and files
  "Registered servers": "已注册服务器", "Server": "服务器", "Workflows": "工作流",
  "Workflow": "工作流", "Enabled": "启用", "Checked": "检查时间", "Current task": "当前任务",
  "No servers registered.": "还没有注册服务器。", "Start a workflow batch": "启动工作流批处理",
  "Folder keywords": "文件夹关键词", "Target folders": "目标文件夹", "Output folder": "输出文件夹",
  "No server offers a workflow yet.": "还没有服务器提供工作流。", "Path": "路径",
  "Modified": "修改时间", "Upload a file": "上传文件", "Folder": "文件夹", "Open": "打开",
  "Up": "上一级", "This folder is empty.": "此文件夹为空。",
  // health and operations
  "Service health": "服务健康状态", "Cluster": "集群", "Cluster: ": "集群：",
  "Instances": "实例", "Service": "服务", "Instance": "实例", "Host": "主机",
  "Last seen": "最近心跳", "Capabilities": "能力", "Stopping": "正在停止",
  "Throughput (items per minute)": "吞吐量（每分钟条目）", "Failures per minute": "每分钟失败数",
  "Queue depth by kind": "各类型排队数", "Worker load": "工作进程负载", "Waiting": "等待中",
  "In flight": "处理中", "Done (last hour)": "完成（近一小时）", "Failed (last hour)": "失败（近一小时）",
  "Last hour, per minute": "近一小时，按分钟", "Operators' view": "运维视图", "Load": "负载",
  "Busy slots": "占用槽位", "No data in the last hour.": "近一小时没有数据。",
  // the timeline's events and the stages the API names in English
  "created": "创建", "started": "开始", "paused": "暂停", "resumed": "继续", "cancelled": "已取消",
  "failed": "失败", "finished": "结束", "done": "完成", "Processing items": "处理条目",
  "Finalizing": "收尾", "task details →": "任务详情 →", "cached": "已缓存",
};

// What the API itself says in Chinese (stage names of the kinds, seed 002's descriptions), for
// an English page.
const EN = {
  "生成文档": "Generating documents", "打包ZIP": "Packing the ZIP", "处理文件": "Processing files",
  "同步文档": "Syncing documents", "Processing items": "Processing items",
  "等待执行": "Waiting", "执行中": "Running", "已暂停": "Paused", "任务完成": "Completed",
  "部分成功": "Partly succeeded", "任务失败": "Failed", "任务取消": "Cancelled", "已跳过": "Skipped",
  "准备中": "Preparing", "完成": "Done", "失败": "Failed", "已取消": "Cancelled",
};

// Sentences with numbers or names in them: English pattern -> Chinese.
const PATTERNS = [
  [/^(\d+) done, (\d+) failed of (\d+)$/, "完成 $1，失败 $2，共 $3"],
  [/^(\d+) done, (\d+) failed, (\d+) cancelled of (\d+)$/, "完成 $1，失败 $2，取消 $3，共 $4"],
  [/^stage (\w+) started$/, "阶段 $1 开始"], [/^stage (\w+) (\w+)$/, "阶段 $1：$2"],
  [/^item #(\d+) failed$/, "条目 #$1 失败"], [/^(\d+) items$/, "$1 个条目"],
  [/^attempt (\d+): (.*)$/, "第 $1 次尝试：$2"],
  [/^finished (\w+)$/, "结束：$1"],
  [/^(\d+)\/(\d+) done$/, "已完成 $1/$2"], [/^(\d+) failed$/, "$1 个失败"],
  [/^(\d+) cancelled$/, "$1 个已取消"], [/^ETA (.*)$/, "预计剩余 $1"], [/^step: (.*)$/, "步骤：$1"],
  [/^page (\d+) of (\d+) · (\d+) tasks$/, "第 $1/$2 页 · 共 $3 个任务"],
  [/^page (\d+) of (\d+)$/, "第 $1/$2 页"], [/^Created (.*)$/, "已创建 $1"],
  [/^Cancel (\d+) task\(s\)\?$/, "取消 $1 个任务？"], [/^Cancel task (.*)\?$/, "取消任务 $1？"],
  [/^Delete (.*)\?$/, "删除 $1？"], [/^Deleted (.*)$/, "已删除 $1"],
  [/^Started (\d+) documents$/, "已开始生成 $1 份文档"], [/^Uploaded (.*)$/, "已上传 $1"],
  [/^Downloaded (\d+) bytes$/, "已下载 $1 字节"],
  [/^Retry task created with (\d+) items$/, "已创建重试任务，共 $1 个条目"],
  [/^(\d+) task\(s\) cancelled$/, "已取消 $1 个任务"], [/^(\d+) retry task\(s\) created$/, "已创建 $1 个重试任务"],
  [/^Sync started: (\d+) documents$/, "已开始同步：$1 个文档"],
  [/^Started: (\d+) files on (.*)$/, "已开始：$2 上的 $1 个文件"],
];

const STATUSES = {
  pending: "等待中", running: "运行中", paused: "已暂停", completed: "已完成",
  partial_success: "部分成功", failed: "失败", cancelled: "已取消", skipped: "已跳过",
  done: "完成", dispatched: "已派发", processing: "处理中", online: "在线", offline: "离线",
  healthy: "健康", degraded: "降级", unhealthy: "不健康", stopped: "已停止",
  synced: "已同步", outdated: "已过期", not_synced: "未同步", busy: "忙碌", idle: "空闲",
  success: "成功", unreachable: "无法连接",
};

function browserLanguage() {
  const wanted = navigator.languages && navigator.languages.length
    ? navigator.languages : [navigator.language || "en"];
  return wanted.some((code) => String(code).toLowerCase().startsWith("zh")) ? "zh-CN" : "en";
}

export const lang = localStorage.getItem(KEY) || browserLanguage();
document.documentElement.lang = lang;

export function setLang(value) {
  localStorage.setItem(KEY, value);
  location.reload();
}

// A label in the page's language (English text is the key). `t("status.x", "x")` names a
// status: those translate by their own table.
export function t(key, fallback) {
  if (key.startsWith("status.")) {
    const status = key.slice(7);
    return lang === "zh-CN" ? STATUSES[status] || fallback || status : fallback || status;
  }
  return tr(key);
}

export function tr(text) {
  if (typeof text !== "string") return text;
  if (lang !== "zh-CN") return Object.prototype.hasOwnProperty.call(EN, text) ? EN[text] : text;
  if (Object.prototype.hasOwnProperty.call(ZH, text)) return ZH[text];
  for (const [pattern, replacement] of PATTERNS) {
    if (pattern.test(text)) return text.replace(pattern, replacement);
  }
  return text;
}
