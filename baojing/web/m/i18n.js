// The caller's words in Chinese; English (i18n-en.js) is fetched only when chosen, so a caller in
// Chinese on a slow link does not download it. The runtime is /shared/lang.js.
import { getLang, setLang, words } from "../shared/lang.js";

words({
  zh: {
    title: "110 网上报警",
    langSwitch: "EN",
    langSwitchLabel: "Switch to English",
    loading: "正在加载…",
    termsBuiltin: "（网络不通，先显示简要须知；联网后自动补记您的同意）",
    termsAccept: "同意并继续",
    termsTitle: "报警须知",
    termsShort: "1. 本页用于向 110 报警。遇到危及生命、财产安全的紧急情况，请立即报警。\n2. 报警时会发送您的位置和电话号码，以便民警尽快找到您。\n3. 请保持电话畅通，接警员会与您通话。\n4. 请如实报警，谎报警情要承担法律责任。\n5. 您的信息仅用于处警，查阅均有记录。",
    callDirect: "直接拨打 110",
    callDirectHint: "来不及？",
    phone: "您的手机号码",
    required: "必填",
    phonePh: "例如 138 0013 8000",
    name: "姓名",
    optional: "可不填",
    callButton: "电话报警",
    callSub: "发送您的位置，并拨打 110",
    videoButton: "视频报警",
    textButton: "文字报警",
    trafficButton: "轻微交通事故？快处快赔",
    callSubOpen: "报警仍在处理中 · 点此再次拨打 110",
    callSubHurry: "再按一次：不等定位，马上发送",
    phoneMissing: "请先填写您的手机号码，警方需要用它联系您。",
    phoneBad: "手机号码好像不对，请检查（例如 138 0013 8000）。",
    rejected: "✗ 报警没有发出",
    rejectedFix: "请改正后再按「电话报警」。您也可以直接拨打 110。",
    stLocating: "正在定位，马上发送报警…（{s} 秒）",
    stLocatingSub: "来不及就按下面的绿色按钮，直接拨打 110。",
    stSending: "正在发送报警…",
    stRetry: "未送达，正在重试（第 {n} 次）",
    stRetryWhen: "请马上拨打 110！网络不好，报警会一直自动重发（{s} 秒后再试）。",
    stOffline: "请马上拨打 110！手机没有网络，联网后报警会自动发送。",
    stRetrying: "正在重试… 请马上拨打 110！",
    retryNow: "立即重试",
    memberOpen: "重点单位人员登录",
    stReceivedAt: "✓ 警方已收到 {time}",
    stClosed: "✓ 本次报警已结束",
    stClosedSub: "如有新的情况，请再次报警或直接拨打 110。",
    stGotAt: "警方已于 {time} 收到您的报警",
    stStillCall: "请拨打 110，把情况告诉接警员。",
    call110: "拨打 110",
    locSent: "✓ 警方已收到您的位置（误差约 {m} 米）",
    locSentNoAcc: "✓ 警方已收到您的位置",
    locQueued: "已取得您的位置（误差约 {m} 米），正在发给警方…",
    locWaiting: "正在获取您的位置，获取后会自动发送。",
    locDenied: "⚠ 没有定位权限，警方不知道您在哪里！",
    locUnavailable: "⚠ 暂时无法定位，警方还不知道您在哪里！",
    locAsk: "请写下您所在的地点，或在地图上选择，也可以在电话里告诉接警员。",
    locTracking: "报警处理期间，您的位置会继续发送给警方。",
    locWrong: "位置不对？写下地点或在地图上选",
    locGive: "写下地点，或在地图上选",
    placeLabel: "您在哪里？（街道、小区、楼号、店名、路口）",
    placePh: "例如：朝阳市双塔区某某路 12 号，超市门口",
    placeSend: "发送地点",
    placeSent: "已发送地点：{text}",
    placeQueued: "地点等待发送：{text}",
    placeEmpty: "请先写下地点。",
    mapOpen: "在地图上选择位置",
    mapFail: "地图打不开。请在上面写下地点。",
    mapPicked: "✓ 警方已收到您在地图上选的位置",
    mapPickedQueued: "您在地图上选的位置正在发送…",
    mapPickedAsk: "如果您换了地方，请再选一次。",
    mine: "我的报警",
    liveOn: "实时更新",
    liveOff: "正在连接…",
    sReceived: "已接收，等待接警",
    sHandling: "接警员正在处理",
    sDispatched: "已派民警",
    sEnRoute: "民警正在赶来",
    sOnScene: "民警已到达现场",
    rAway: "民警距您约 {d}",
    rEta: "，预计 {min} 分钟到达",
    sClosed: "已结束",
    sPending: "未送达，正在重试",
    sSending: "正在发送",
    tReceived: "报警时间",
    tUpdated: "更新时间",
    tClosed: "结束时间",
  },
});

// Switch language, fetching the English words first (the switch waits for them). Without them
// (offline before they were ever fetched) the page stays in Chinese.
export async function useLang(l) {
  if (l === "en") {
    try {
      await import("./i18n-en.js");
    } catch {
      setLang("zh", { remember: false });
      return getLang();
    }
  }
  setLang(l);
  return getLang();
}
